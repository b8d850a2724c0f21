import Clips
import Foundation
import MatteMetrics
import MediaIO
import Report
import Services
import Store
import Verdict

/// Version of the harness, stored with every run.
public let harnessVersion = "mattegate/0.1.0"

/// Runs an A/B comparison end to end: clip set → provider → decode → metrics → SQLite →
/// verdict → HTML.
public enum RunCoordinator {
  /// Runs `options` and returns the outcome. Per-clip failures are recorded and reported; they
  /// never lose the other clips' results.
  ///
  /// - Parameter output: writes the run's progress as raw text (lines end in a newline; the
  ///   progress bar redraws with a carriage return).
  /// - Throws: `ConfigError`, `RunError` or `StoreError` for bad input found before submitting.
  public static func run(
    _ options: RunOptions, output: @escaping @Sendable (String) -> Void = { _ in }
  ) async throws -> RunResult {
    // Validate everything before anything is submitted.
    let configA = try ArmConfig.load(options.configAPath)
    let configB = try ArmConfig.load(options.configBPath)
    var policy = try options.gatePath.map { path throws(ConfigError) in try GateFile.load(path) } ?? .standard
    let alignmentPolicy =
      try options.gatePath.map { path throws(ConfigError) in try GateFile.alignment(path) } ?? AlignmentPolicy()
    // Each arm's provider: its config's `provider:`, else --provider. Arms that resolve to the
    // same kind, URL and key variable share one provider (one preflight, one 402 stop).
    let requestLog = RequestLog()
    let providers = try armProviders(configA: configA, configB: configB, options: options, log: requestLog)
    let sharedProvider = providers.shared
    // What a provider refuses names the arm as well as the file and field.
    func forArm<T>(_ arm: String?, _ body: () async throws -> T) async throws -> T {
      do { return try await body() } catch var e as ConfigError where !e.message.hasPrefix("arm ") {
        // A shared preflight's refusal belongs to the arm whose config it names.
        let named =
          arm ?? (configA.file == configB.file ? "A and B" : e.file == configA.file ? "A" : "B")
        e.message = "arm \(named): " + e.message
        throw e
      }
    }
    try await forArm("A") { try providers.A.validate(configA) }
    try await forArm("B") { try providers.B.validate(configB) }
    if sharedProvider {
      // One preflight for both: a refusal names the config's own file.
      try await forArm(nil) { try await providers.A.preflight([configA, configB]) }
    } else {
      try await forArm("A") { try await providers.A.preflight([configA]) }
      try await forArm("B") { try await providers.B.preflight([configB]) }
    }
    let armProvider: [String: any Provider] = ["A": providers.A, "B": providers.B]
    // Identity and name: one provider's when shared; both, by arm, when not.
    let providerIdentity =
      sharedProvider ? providers.A.identity : "A: \(providers.A.identity); B: \(providers.B.identity)"
    let providerName = sharedProvider ? providers.A.name : "A: \(providers.A.name), B: \(providers.B.name)"
    let clipSet = try ClipSet.load(folder: options.clipsetFolder)
    // The aspect-ratio policy per clip, before anything is submitted (a background picture only).
    var aspectWarnings: [AspectCheck] = []
    if configA.bgType == "image" || configB.bgType == "image" {
      let sizes = try clipSet.clips.map { clip in
        let size = try MediaInput.open(clipSet.path(of: clip.source), options: ReadOptions(rgb: .none)).size
        return (id: clip.id, width: size.width, height: size.height)
      }
      aspectWarnings += try AspectCheck.check(configA, arm: "A", clips: sizes)
      aspectWarnings += try AspectCheck.check(configB, arm: "B", clips: sizes)
    }
    let backgroundSHA256: [String: String] = try [("A", configA), ("B", configB)].reduce(into: [:]) { hashes, arm in
      if let image = arm.1.bgImage { hashes[arm.0] = try FileHash.sha256(ofFile: image) }
    }
    let configKeys = [
      "A": configKey(configA, backgroundSHA256: backgroundSHA256["A"]),
      "B": configKey(configB, backgroundSHA256: backgroundSHA256["B"]),
    ]
    let store = try ResultStore(path: options.databasePath)
    // Noise bands measured by `mattegate calibrate` for arm A on this clip set and provider.
    let calibration = try store.calibration(
      clipsetSHA256: clipSet.manifestSHA256, configHash: configKeys["A"]!, providerIdentity: providers.A.identity)
    for c in calibration { policy.noiseBands[Endpoint(region: c.region, metric: c.metric)] = c.noise }
    let identity = RunIdentity(
      clipsetSHA256: clipSet.manifestSHA256, configAKey: configKeys["A"]!, configBKey: configKeys["B"]!,
      providerIdentity: providerIdentity, gateText: policy.canonicalText, seed: options.seed)
    try store.registerMetricVersions(MetricKind.allCases.map { ($0.versionTag, $0.rawValue, $0.version) })

    // A new run, or the stored one to finish: the same identity, or a refusal saying what differs.
    let runID: String
    var shard = options.shard
    var priorClips: [String: ClipRecord] = [:]
    var priorJobs: [String: [(id: Int64, record: JobRecord)]] = [:]
    if let resume = options.resumeRunID {
      guard let stored = try store.run(id: resume) else {
        throw RunError("\(options.databasePath): there is no run \(resume) to resume")
      }
      let storedIdentity = RunIdentity(text: stored.identityText ?? "")
      guard storedIdentity == identity else {
        throw RunError(
          "cannot resume run \(resume): it would mix results made differently; "
            + identity.differences(from: storedIdentity).joined(separator: "; "))
      }
      let storedShard = try stored.shard.map(parseShard)
      guard options.shard == nil || options.shard! == storedShard! else {
        throw RunError(
          "cannot resume run \(resume) as shard \(options.shard!.index)/\(options.shard!.count): it is shard \(stored.shard ?? "none")"
        )
      }
      shard = storedShard
      runID = resume
      try store.reopenRun(id: resume)
      for c in try store.clips(runID: resume) { priorClips[c.clipID] = c }
      for row in try store.jobRows(runID: resume) {
        priorJobs["\(row.record.clipID)/\(row.record.arm)", default: []].append(row)
      }
    } else {
      runID = options.runID ?? makeRunID()
      if options.runID != nil, try store.run(id: runID) != nil {
        throw RunError("\(options.databasePath): run id \(runID) is already used; choose another --run-id")
      }
      var record = RunRecord(
        id: runID, createdAt: Date(), status: "running", clipsetName: clipSet.name,
        clipsetFolder: clipSet.folder, clipsetSHA256: clipSet.manifestSHA256, configAName: configA.name,
        configAHash: configA.settingsHash, configAText: configA.canonicalText, configBName: configB.name,
        configBHash: configB.settingsHash, configBText: configB.canonicalText, provider: providerName,
        harnessVersion: harnessVersion, metricsVersion: metricsVersion, regionsVersion: regionsVersion,
        gateText: policy.canonicalText, seed: Int64(bitPattern: options.seed))
      record.identityText = identity.text
      record.identitySHA256 = identity.sha256
      record.providerIdentity = providerIdentity
      record.shard = shard.map { "\($0.index)/\($0.count)" }
      record.baselineRun = options.baselineRunID
      record.apply(options.label)
      record.configAYAML = try? String(contentsOfFile: configA.file, encoding: .utf8)
      record.configBYAML = try? String(contentsOfFile: configB.file, encoding: .utf8)
      record.reportFolder = URL(fileURLWithPath: options.outputFolder + "/" + runID).standardizedFileURL.path
      record.owner = options.owner
      try store.insert(record)
    }

    // Arm A from a stored run, if its keys match this run's.
    var baselineJobs: [String: JobRecord] = [:]
    if let baseline = options.baselineRunID {
      baselineJobs = try baselineOutputs(
        run: baseline, store: store, configKeyA: configKeys["A"]!, providerIdentity: providers.A.identity)
    }

    let runFolder = options.outputFolder + "/" + runID
    try OutputFolder.create(runFolder)
    do { try requestLog.attach(folder: runFolder) } catch {
      throw RunError("\(runFolder)/requests: cannot create the operational log: \(error.localizedDescription)")
    }
    let mine = clipSet.clips.enumerated().filter { shard == nil || $0.offset % shard!.count == shard!.index - 1 }
    let todo = ClipOrder.mostWorkFirst(
      mine.filter { !["scored", "inconclusive"].contains(priorClips[$0.element.id]?.status ?? "") })
    let progress = RunProgress(total: mine.count, style: options.progressStyle, emit: output)
    var header =
      "run \(runID): \(mine.count) clips × 2 arms on "
      + (sharedProvider ? "provider \(providers.A.name)" : "providers A \(providers.A.name), B \(providers.B.name)")
    if let shard { header += " (shard \(shard.index)/\(shard.count) of \(clipSet.clips.count) clips)" }
    if options.resumeRunID != nil {
      header += "; resuming: \(mine.count - todo.count) clips already stored, \(todo.count) to go"
    }
    progress.line(header)
    if let source = calibration.first {
      let widest = calibration.max { $0.noise < $1.noise }!
      progress.line(
        "noise bands from A/A calibration run \(source.runID): \(calibration.count) endpoints, widest \(widest.region)/\(widest.metric) \(String(format: "%.2f%%", widest.noise * 100))"
      )
    }
    for _ in 0..<(mine.count - todo.count) { progress.clipCarriedOver() }
    // Each source's bits per pixel, once: warned about here, stored with the clip's results.
    var bitsPerPixel: [String: Double] = [:]
    for clip in mine.map(\.element) {
      guard let bpp = clip.bitsPerPixel ?? SetCoverage.sourceBitsPerPixel(clip, in: clipSet) else { continue }
      bitsPerPixel[clip.id] = bpp
      if let w = CompressionGuard.warning(bitsPerPixel: bpp) { progress.line("  \(clip.id): warning: \(w)") }
    }
    for w in aspectWarnings where w.match.match != .exact {
      progress.line(
        "  \(w.clipID): arm \(w.arm)'s background aspect is \(w.match.match.rawValue) against the source "
          + "(relative difference \(String(format: "%.3f", w.match.relativeDifference))): aspect_ratio_mismatch warning"
      )
    }
    for w in aspectWarnings where w.upscaled {
      progress.line(
        "  \(w.clipID): arm \(w.arm)'s background \(w.background.width)x\(w.background.height) is smaller than the source: upscaled background: expect blur"
      )
    }

    var context = ClipContext(
      runID: runID, runFolder: runFolder, clipSet: clipSet, configA: configA, configB: configB,
      providers: armProvider, alignment: alignmentPolicy, store: store, progress: progress,
      backgroundSHA256: backgroundSHA256, scoring: Slots(ProcessInfo.processInfo.activeProcessorCount))
    context.configKeys = configKeys
    context.useCache = options.useCache
    context.previews = options.previews
    context.owner = options.owner
    context.bitsPerPixel = bitsPerPixel
    context.baselineJobs = baselineJobs
    context.priorJobs = priorJobs
    let shared = context
    let limit = max(1, options.jobs)
    var serviceVersion: String?
    await withTaskGroup(of: ClipOutcome.self) { group in
      var next = 0
      func launch() {
        let (index, clip) = todo[next]
        group.addTask { await shared.process(clip: clip, index: index) }
        next += 1
      }
      while next < min(limit, todo.count) { launch() }
      for await outcome in group {
        serviceVersion = serviceVersion ?? outcome.serviceVersion
        if next < todo.count { launch() }
      }
    }
    progress.finish()
    if let serviceVersion { try store.setServiceVersion(runID: runID, serviceVersion) }
    return try RunFinisher.finish(runID: runID, store: store, policy: policy, runFolder: runFolder)
  }

  /// Arm A's reusable jobs of `run`, by clip id, after checking that they were made under the
  /// same config and provider as this run's arm A.
  static func baselineOutputs(
    run: String, store: ResultStore, configKeyA: String, providerIdentity: String
  ) throws -> [String: JobRecord] {
    guard let stored = try store.run(id: run) else {
      throw RunError("\(store.path): there is no run \(run) to take a baseline from")
    }
    let theirs = RunIdentity(text: stored.identityText ?? "")
    var reasons: [String] = []
    if theirs["config_a"] != configKeyA {
      reasons.append("its arm A ('\(stored.configAName)') was made with other settings than this run's arm A")
    }
    let theirProvider = theirs["provider"].map { RunIdentity.armProvider($0, arm: "A") }
    if theirProvider != providerIdentity {
      reasons.append(
        "its arm A's provider was '\(theirProvider ?? stored.provider)', this run's is '\(providerIdentity)'")
    }
    guard reasons.isEmpty else {
      throw RunError("cannot reuse arm A of run \(run): " + reasons.joined(separator: "; "))
    }
    var jobs: [String: JobRecord] = [:]
    for job in try store.jobs(runID: run) where job.arm == "A" && ["completed", "reused"].contains(job.status) {
      jobs[job.clipID] = job
    }
    return jobs
  }

  /// Reads `K/N` with 1 ≤ K ≤ N.
  public static func parseShard(_ text: String) throws -> (index: Int, count: Int) {
    try parseShard(text, environment: ProcessInfo.processInfo.environment)
  }

  public static func parseShard(_ text: String, environment: [String: String]) throws -> (index: Int, count: Int) {
    if text == "env" { return try shardFromEnvironment(environment) }
    let parts = text.split(separator: "/")
    guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]), n >= 1, k >= 1, k <= n else {
      throw RunError("shard '\(text)' is not K/N with 1 ≤ K ≤ N")
    }
    return (k, n)
  }

  /// `--shard env`: GitLab's `CI_NODE_INDEX`/`CI_NODE_TOTAL` (1-based), else a Kubernetes
  /// Indexed Job's `JOB_COMPLETION_INDEX` (0-based) with the total in `MATTEGATE_SHARD_COUNT`.
  static func shardFromEnvironment(_ env: [String: String]) throws -> (index: Int, count: Int) {
    func number(_ name: String) throws -> Int? {
      guard let text = env[name], !text.isEmpty else { return nil }
      guard let n = Int(text) else { throw RunError("--shard env: \(name)='\(text)' is not a whole number") }
      return n
    }
    let shard: (Int, Int)
    if let k = try number("CI_NODE_INDEX") {
      guard let n = try number("CI_NODE_TOTAL") else {
        throw RunError("--shard env: CI_NODE_INDEX is set but CI_NODE_TOTAL is not")
      }
      shard = (k, n)
    } else if let i = try number("JOB_COMPLETION_INDEX") {
      guard let n = try number("MATTEGATE_SHARD_COUNT") else {
        throw RunError(
          "--shard env: JOB_COMPLETION_INDEX is set but MATTEGATE_SHARD_COUNT (the Job's completions) is not")
      }
      shard = (i + 1, n)
    } else {
      throw RunError(
        "--shard env: set CI_NODE_INDEX and CI_NODE_TOTAL (GitLab parallel jobs), or JOB_COMPLETION_INDEX and MATTEGATE_SHARD_COUNT (a Kubernetes Indexed Job)"
      )
    }
    guard shard.1 >= 1, shard.0 >= 1, shard.0 <= shard.1 else {
      throw RunError("--shard env: shard \(shard.0)/\(shard.1) is not K/N with 1 ≤ K ≤ N")
    }
    return shard
  }

  /// An endpoint's note, with the smallest change its clips could detect when it is inconclusive.
  static func detectableNote(_ c: ComparisonRecord) -> String? {
    guard c.verdict == VerdictLabel.inconclusive.rawValue, let d = c.detectablePercent else { return c.note }
    let detectable = String(format: "smallest detectable change with %d clips ±%.1f%%", c.clips, d)
    return c.note.map { "\($0); \(detectable)" } ?? detectable
  }

  /// The gate's mode, then one line per primary endpoint: estimate, the 90% decision interval
  /// and the 95% interval, the sign-flip p and its Holm adjustment, the label and its warning
  /// or note.
  static func verdictLines(results: [Endpoint: PairedResult], policy: GatePolicy) -> [String] {
    let width = max(12, (policy.primaries.map { $0.description.count }.max() ?? 0) + 2)
    let head =
      "gate mode: \(policy.mode.rawValue) (\(policy.mode == .rollout ? "B passes when every primary is non-inferior" : "fails on an Inferior or Regressed primary"))"
    return [head]
      + policy.primaries.map { endpoint in
        let name = endpoint.description.padding(toLength: width, withPad: " ", startingAt: 0)
        guard let r = results[endpoint] else { return "\(name)no result" }
        let pct = PairedResult.percent
        var line = "\(name)n=\(r.n)"
        if let mean = r.meanLogRatio { line += String(format: "  B/A %+6.1f%%", pct(mean)) }
        if let ci = r.ci90 {
          line += String(format: "  90%% [%+.1f%%, %+.1f%%]", pct(ci.lowerBound), pct(ci.upperBound))
        }
        if let ci = r.ci95 {
          line += String(format: "  95%% [%+.1f%%, %+.1f%%]", pct(ci.lowerBound), pct(ci.upperBound))
        }
        if let p = r.pValue { line += String(format: "  p=%.3g", p) }
        if let q = r.adjustedP { line += String(format: " (Holm %.3g)", q) }
        line += String(format: "  margin +%g%%", policy.margin(of: endpoint) * 100)
        line += "  \(r.label.rawValue)"
        // The warning belongs to the label, as in every other output; the gate's line below
        // says whether the mode fails on it.
        if let warning = r.warning { line += " — WARNING: \(warning)" }
        if r.label == .inferior, let note = r.note { line += ": \(note)" }
        if r.label == .inconclusive { line += ": " + Gate.undecided(r) }
        return line
      }
  }

  static func makeRunID() -> String {
    let f = DateFormatter()
    f.locale = Locale(identifier: "en_US_POSIX")
    f.timeZone = TimeZone(identifier: "UTC")
    f.dateFormat = "yyyyMMdd-HHmmss"
    let suffix = String(UInt32.random(in: 0...0xFFFF), radix: 16)
    return f.string(from: Date()) + "-" + String(repeating: "0", count: 4 - suffix.count) + suffix
  }

  /// Each arm's provider, from its config's `provider:` (else `--provider`), `api_url:` (else
  /// `--api-url`) and `api_key_env:` (else MATTEGATE_API_KEY); one instance when both arms
  /// resolve to the same. Errors name the config file, the field and the arm.
  static func armProviders(
    configA: ArmConfig, configB: ArmConfig, options: RunOptions, log: RequestLog = RequestLog()
  ) throws -> (
    A: any Provider, B: any Provider, shared: Bool
  ) {
    func key(_ c: ArmConfig) -> (kind: String, url: String?, keyVariable: String) {
      let kind = c.provider ?? options.provider
      let url: String? =
        switch kind {
        case "http": c.apiURL ?? options.apiURL
        case "removebgvideo": c.apiURL ?? RemoveBGVideoProvider.defaultBaseURL
        case "videobgremover": c.apiURL ?? VideoBGRemoverProvider.defaultBaseURL
        case "replicate": c.apiURL
        default: nil
        }
      return (kind, url, c.apiKeyEnv ?? ArmConfig.defaultAPIKeyVariable)
    }
    func make(_ c: ArmConfig, arm: String) throws -> any Provider {
      let k = key(c)
      let field = c.provider != nil ? "provider" : "--provider"
      switch k.kind {
      case "local": return LocalProvider()
      case "exec": return ExecProvider()
      case "http", "removebgvideo", "videobgremover", "replicate":
        guard let url = k.url else {
          throw ConfigError(
            file: c.file, field: "api_url",
            message: k.kind == "http"
              ? "arm \(arm): provider http needs api_url in the config or --api-url on the command line"
              : "arm \(arm): provider replicate needs api_url (https://api.replicate.com or a Cog server's URL)")
        }
        var settings: HTTPProviderSettings
        do {
          settings = try HTTPProviderSettings.fromEnvironment(
            baseURL: url, keyVariable: k.keyVariable, provider: k.kind)
        } catch {
          // A bad URL is the URL's fault; anything else is the key's.
          let field =
            error.description.contains("URL") && c.apiKeyEnv == nil
            ? (c.apiURL != nil ? "api_url" : field) : (c.apiKeyEnv != nil || k.kind != "http" ? "api_key_env" : field)
          throw ConfigError(file: c.file, field: field, message: "arm \(arm): \(error)")
        }
        settings.pollInitial = options.pollInterval
        settings.pollMax = max(options.pollInterval, 10)
        settings.deadline = options.jobDeadline
        switch k.kind {
        case "removebgvideo": return RemoveBGVideoProvider(settings: settings, log: log)
        case "videobgremover": return VideoBGRemoverProvider(settings: settings, log: log)
        case "replicate": return ReplicateProvider(settings: settings, log: log)
        default: return HTTPProvider(settings: settings, log: log)
        }
      default:
        throw ConfigError(
          file: c.file, field: field,
          message:
            "arm \(arm): provider '\(k.kind)' is unknown; use local, exec, http, removebgvideo, videobgremover or replicate"
        )
      }
    }
    let a = try make(configA, arm: "A")
    let (ka, kb) = (key(configA), key(configB))
    if ka.kind == kb.kind && ka.url == kb.url && ka.keyVariable == kb.keyVariable { return (a, a, true) }
    return (a, try make(configB, arm: "B"), false)
  }
}
