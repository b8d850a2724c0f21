public import Clips
import Foundation
public import MatteMetrics
import MediaIO

/// `clipset add`: a user's clip into a clip set. Every input is read and checked against the
/// source before anything lands in the set (size, frame count, timestamps, matte not colour,
/// binary masks, plate size, plausible CRF); ground truth and masks are converted to the set's
/// lossless storage (16-bit FFV1 alpha, the 8-bit bit-coded region video) in a staging folder
/// inside the set, which is moved into place and pinned in `clipset.yaml` only when every
/// check passed. A failure removes the staging folder: nothing partial is left in the set.
public enum ClipIntake {
  public struct Request: Sendable {
    public var id: String
    public var source: String
    public var tags: [String]
    /// Ground-truth alpha: a video with an alpha plane or a gray matte, a PNG folder or ZIP.
    public var alpha: String?
    /// Own region masks (hair, glass, motion): binary, in anything `alpha` may be.
    public var masks: [RegionKind: String]
    /// Clean plate: a PNG, or a video with the plate of every frame.
    public var plate: String?
    /// Motion vectors: a ZIP (or folder) of `<t>.npy`, H×W×2 float32, forward t−1→t.
    public var motion: String?
    public var crf: Int?

    public init(
      id: String, source: String, tags: [String] = [], alpha: String? = nil, masks: [RegionKind: String] = [:],
      plate: String? = nil, motion: String? = nil, crf: Int? = nil
    ) {
      self.id = id
      self.source = source
      self.tags = tags
      self.alpha = alpha
      self.masks = masks
      self.plate = plate
      self.motion = motion
      self.crf = crf
    }
  }

  public struct Added: Sendable {
    public var set: ClipSet
    public var clip: Clip
    /// Things worth knowing that do not stop the clip (heavy compression, an orphan replaced).
    public var warnings: [String]
  }

  /// Regions a clip may bring its own mask for, with their bit in the region-mask video.
  public static let maskRegions: [(region: RegionKind, code: UInt16)] = [
    (.hair, RegionMaskCodes.hair), (.glass, RegionMaskCodes.glass), (.motion, RegionMaskCodes.motion),
  ]

  /// What the source is: its frames' times, size, rate and compression.
  struct SourceProbe {
    var times: [Double]
    var size: PixelSize
    var frameRate: Double
    var codec: String
    var bytes: Int
    var duration: Double
    var bitsPerPixel: Double {
      CompressionGuard.bitsPerPixel(bytes: bytes, width: size.width, height: size.height, frames: times.count)
    }
  }

  static func probe(_ path: String, clip: String, manifest: String) throws -> SourceProbe {
    let reader = try VideoReader(path: path, options: ReadOptions(rgb: .none))
    var times: [Double] = []
    while let f = try reader.nextFrame() {
      times.append(f.time)
      guard times.count <= InputLimits.maxFrames else {
        throw ConfigError(
          file: path, clip: clip, field: "source", message: "has more than \(InputLimits.maxFrames) frames")
      }
    }
    guard !times.isEmpty else {
      throw ConfigError(file: path, clip: clip, field: "source", message: "has no video frames")
    }
    let interval = reader.frameRate > 0 ? 1 / reader.frameRate : 0
    // Times from the first frame: ground truth is compared by its place in the clip.
    let first = times[0]
    times = times.map { $0 - first }
    let last = times.last!
    let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    return SourceProbe(
      times: times, size: reader.size, frameRate: reader.frameRate,
      codec: reader.formatDescription, bytes: bytes, duration: ((last + interval) * 1000).rounded() / 1000)
  }

  /// Adds one clip; see the type's description.
  public static func add(_ r: Request, to folder: String) throws -> Added {
    let fm = FileManager.default
    let manifest = folder + "/" + ClipSet.manifestName
    func fail(_ file: String, _ field: String, _ message: String) -> ConfigError {
      ConfigError(file: file, clip: r.id, field: field, message: message)
    }
    if let problem = ClipID.problem(r.id) {
      let shown = r.id.count > ClipID.maxLength ? String(r.id.prefix(24)) + "…" : r.id
      throw ConfigError(file: manifest, clip: shown, field: "id", message: problem)
    }
    var tags = r.tags.filter { !$0.isEmpty }
    for tag in tags {
      if let problem = ClipSet.tagProblem(tag) { throw fail(manifest, "tags", problem) }
    }
    if let crf = r.crf, !(0...63).contains(crf) {
      throw fail(r.source, "crf", "\(crf) is not a plausible CRF (0…63; H.264 and HEVC use 0…51)")
    }
    // Every given input must be a readable file (or folder, for frame sequences) first.
    var inputs: [(field: String, path: String, folder: Bool)] = [("source", r.source, false)]
    if let a = r.alpha { inputs.append(("alpha", a, true)) }
    for (region, path) in r.masks.sorted(by: { $0.key < $1.key }) {
      inputs.append(("masks.\(region.rawValue)", path, true))
    }
    if let p = r.plate { inputs.append(("plate", p, false)) }
    if let m = r.motion { inputs.append(("motion", m, true)) }
    for input in inputs {
      guard fm.fileExists(atPath: input.path) else { throw fail(input.path, input.field, "no such file") }
      do { try InputFile.check(input.path, allowFolder: input.folder) } catch {
        throw fail(input.path, input.field, error.reason)
      }
    }
    if !r.masks.isEmpty && r.alpha == nil {
      throw fail(manifest, "masks", "region masks need ground-truth alpha (--alpha): without it no metric is scored")
    }
    try OutputFolder.create(folder)
    var existing: ClipSet?
    if fm.fileExists(atPath: manifest) {
      existing = try ClipSet.load(folder: folder)
      if existing!.clips.contains(where: { $0.id == r.id }) {
        throw fail(manifest, "id", "a clip with this id is already registered")
      }
    }
    let sourceHash = try FileHash.sha256(ofFile: r.source)
    if let twin = existing?.clips.first(where: { $0.source.sha256.lowercased() == sourceHash }) {
      throw fail(
        r.source, "source",
        "is the same source as clip '\(twin.id)' (sha256 \(sourceHash.prefix(12))…): one clip would count twice in the paired test"
      )
    }
    let source: SourceProbe
    do { source = try probe(r.source, clip: r.id, manifest: manifest) } catch let e as MediaError {
      throw fail(r.source, "source", e.reason)
    }
    if let crf = r.crf, crf > 51, source.codec.contains("h264") || source.codec.contains("hevc") {
      throw fail(r.source, "crf", "\(crf) is past the largest CRF of \(source.codec) (51)")
    }
    var warnings: [String] = []
    if let w = CompressionGuard.warning(bitsPerPixel: source.bitsPerPixel) {
      warnings.append("\(r.source): \(w)")
    }
    // Staging inside the set, so the final move is a rename on one file system.
    let staging = folder + "/.adding-" + r.id
    if fm.fileExists(atPath: staging) { try fm.removeItem(atPath: staging) }
    try fm.createDirectory(atPath: staging, withIntermediateDirectories: true)
    var committed = false
    defer { if !committed { try? fm.removeItem(atPath: staging) } }
    var entry = ManifestEntry(id: r.id, tags: tags)
    entry.files.append(("source", "source" + ext(r.source), sourceHash))
    try fm.copyItem(atPath: r.source, toPath: staging + "/source" + ext(r.source))
    if let alpha = r.alpha {
      try convertAlpha(alpha, clip: r.id, source: source, sourcePath: r.source, to: staging + "/alpha.mkv")
      entry.files.append(("alpha", "alpha.mkv", nil))
    } else if !tags.contains("no-gt") {
      tags.append("no-gt")
      entry.tags = tags
    }
    if !r.masks.isEmpty {
      try convertMasks(r.masks, clip: r.id, source: source, sourcePath: r.source, to: staging + "/regions.mkv")
      entry.files.append(("region_masks", "regions.mkv", nil))
      entry.maskRegions = maskRegions.map(\.region).filter { r.masks[$0] != nil }
    }
    if let plate = r.plate {
      try checkPlate(plate, clip: r.id, source: source)
      try fm.copyItem(atPath: plate, toPath: staging + "/plate" + ext(plate))
      entry.files.append(("clean_plate", "plate" + ext(plate), nil))
    }
    if let motion = r.motion {
      try checkMotion(motion, clip: r.id, source: source)
      let name = isFolder(motion) ? "motion" : "motion.zip"
      try fm.copyItem(atPath: motion, toPath: staging + "/" + name)
      entry.files.append(("motion", name, nil))
    }
    entry.crf = r.crf
    entry.duration = source.duration
    entry.size = source.size.description
    entry.bitsPerPixel = source.bitsPerPixel
    // Pin what was written (the source's hash is known).
    for i in entry.files.indices where entry.files[i].sha256 == nil {
      entry.files[i].sha256 = try ClipSet.contentHash(of: staging + "/" + entry.files[i].name)
    }
    // Into place: an unregistered folder of this id is an interrupted add's leftover.
    let final = folder + "/" + r.id
    if fm.fileExists(atPath: final) {
      warnings.append("\(final): an unregistered folder of this id (left by an interrupted add) was replaced")
      try fm.removeItem(atPath: final)
    }
    try fm.moveItem(atPath: staging, toPath: final)
    committed = true
    let before = (try? String(contentsOfFile: manifest, encoding: .utf8)) ?? ""
    var text = before
    if text.isEmpty {
      let name = URL(fileURLWithPath: folder).lastPathComponent
      text =
        "# Clips registered with `mattegate clipset add`; every file pinned by sha256.\nname: \(name)\nversion: 1\nclips:\n"
    }
    if !text.hasSuffix("\n") { text += "\n" }
    do {
      // Written whole to a temporary file and renamed: an interrupted add leaves the old manifest.
      try (text + entry.yaml).write(toFile: manifest, atomically: true, encoding: .utf8)
      // The existing clips were verified when the set was loaded above and every new file but
      // the source was hashed from its copy: only the source copy is checked against its pin.
      let set = try ClipSet.load(folder: folder, verifyHashes: false)
      let clip = set.clips.first { $0.id == r.id }!
      let copied = try FileHash.sha256(ofFile: set.path(of: clip.source))
      guard copied == sourceHash else {
        throw ConfigError(
          file: set.path(of: clip.source), clip: r.id, field: "source",
          message: "the copy differs from \(r.source) (sha256 \(copied.prefix(12))…, not \(sourceHash.prefix(12))…)")
      }
      return Added(set: set, clip: clip, warnings: warnings)
    } catch {
      // Put the set back as it was.
      if before.isEmpty {
        try? fm.removeItem(atPath: manifest)
      } else {
        try? before.write(toFile: manifest, atomically: true, encoding: .utf8)
      }
      try? fm.removeItem(atPath: final)
      throw error
    }
  }

  static func isFolder(_ path: String) -> Bool { (try? InputFile.check(path, allowFolder: true)) == .folder }

  static func ext(_ path: String) -> String {
    let e = URL(fileURLWithPath: path).pathExtension.lowercased()
    return e.isEmpty || isFolder(path) ? "" : "." + e
  }

  /// The source frame a ground-truth frame must sit on: frame `index`, within half a frame.
  static func checkTiming(
    _ path: String, field: String, what: String, clip: String, index: Int, time: Double, source: SourceProbe,
    sourcePath: String
  ) throws {
    guard index < source.times.count else {
      throw ConfigError(
        file: path, clip: clip, field: field,
        message:
          "the \(what) has more frames than the source \(sourcePath) (\(source.times.count)); they must match frame for frame"
      )
    }
    let interval = source.frameRate > 0 ? 1 / source.frameRate : 0.04
    let offset = time - source.times[index]
    guard abs(offset) <= AlignmentPolicy().window * interval + 1e-6 else {
      throw ConfigError(
        file: path, clip: clip, field: field,
        message: String(
          format:
            "the \(what)'s frame %d is at %.3f s but source frame %d is at %.3f s (%.3f s apart, more than half a frame of %.3f s)",
          index, time, index, source.times[index], offset, interval))
    }
  }

  static func checkSize(
    _ size: PixelSize, _ path: String, field: String, what: String, clip: String, source: SourceProbe,
    sourcePath: String
  ) throws {
    guard size == source.size else {
      throw ConfigError(
        file: path, clip: clip, field: field,
        message: "the \(what) is \(size) but the source \(sourcePath) is \(source.size); they must match")
    }
  }

  /// Reads a matte from anything `score` reads and writes it as 16-bit FFV1.
  static func convertAlpha(_ path: String, clip: String, source: SourceProbe, sourcePath: String, to target: String)
    throws
  {
    let reader: any FrameSource
    do { reader = try StandaloneScore.open(path, sequenceFrameRate: source.frameRate) } catch let e as MediaError {
      throw ConfigError(file: path, clip: clip, field: "alpha", message: e.reason)
    }
    try checkSize(
      reader.size, path, field: "alpha", what: "ground-truth alpha", clip: clip, source: source, sourcePath: sourcePath)
    let writer = try VideoWriter(
      path: target, width: source.size.width, height: source.size.height,
      frameRate: source.frameRate, encoding: .ffv1Gray16)
    var index = 0
    var first: Double?
    do {
      while let f = try reader.nextFrame() {
        if first == nil { first = f.time }
        guard let a = f.alpha else {
          throw ConfigError(file: path, clip: clip, field: "alpha", message: "frame \(f.index) has no matte")
        }
        try checkTiming(
          path, field: "alpha", what: "ground-truth alpha", clip: clip, index: index, time: f.time - first!,
          source: source,
          sourcePath: sourcePath)
        try writer.append(rgb: nil, alpha: widened(a))
        index += 1
      }
    } catch let e as MediaError {
      throw ConfigError(file: path, clip: clip, field: "alpha", message: e.reason)
    }
    guard index == source.times.count else {
      throw ConfigError(
        file: path, clip: clip, field: "alpha",
        message:
          "the ground-truth alpha has \(index) frames but the source \(sourcePath) has \(source.times.count); they must match frame for frame"
      )
    }
    try writer.finish()
  }

  /// A matte on the 16-bit scale: code c of maximum m becomes round(c · 65535 / m).
  static func widened(_ a: GrayImage) -> GrayImage {
    guard a.maxValue != 65535 else { return a }
    let m = UInt32(a.maxValue)
    return GrayImage(
      width: a.width, height: a.height, maxValue: 65535,
      samples: a.samples.map { UInt16((UInt32(min($0, UInt16(m))) * 65535 + m / 2) / m) })
  }

  /// Reads each region's binary mask and writes their bits into one 8-bit FFV1 code video.
  static func convertMasks(
    _ masks: [RegionKind: String], clip: String, source: SourceProbe, sourcePath: String, to target: String
  ) throws {
    var readers: [(region: RegionKind, code: UInt16, path: String, reader: any FrameSource)] = []
    for (region, code) in maskRegions {
      guard let path = masks[region] else { continue }
      let field = "masks.\(region.rawValue)"
      do {
        let reader = try StandaloneScore.open(path, sequenceFrameRate: source.frameRate)
        try checkSize(
          reader.size, path, field: field, what: "\(region.rawValue) mask", clip: clip, source: source,
          sourcePath: sourcePath)
        readers.append((region, code, path, reader))
      } catch let e as MediaError {
        throw ConfigError(file: path, clip: clip, field: field, message: e.reason)
      }
    }
    let writer = try VideoWriter(
      path: target, width: source.size.width, height: source.size.height,
      frameRate: source.frameRate, encoding: .ffv1Gray8)
    let n = source.size.width * source.size.height
    var firsts = [Double?](repeating: nil, count: readers.count)
    for index in 0..<source.times.count {
      var codes = [UInt16](repeating: 0, count: n)
      for (j, r) in readers.enumerated() {
        let field = "masks.\(r.region.rawValue)"
        let frame: DecodedFrame?
        do { frame = try r.reader.nextFrame() } catch {
          throw ConfigError(file: r.path, clip: clip, field: field, message: error.reason)
        }
        guard let f = frame, let m = f.alpha else {
          if frame != nil {
            throw ConfigError(file: r.path, clip: clip, field: field, message: "frame \(index) has no mask")
          }
          throw ConfigError(
            file: r.path, clip: clip, field: field,
            message:
              "the \(r.region.rawValue) mask has \(index) frames but the source \(sourcePath) has \(source.times.count); they must match frame for frame"
          )
        }
        if firsts[j] == nil { firsts[j] = f.time }
        try checkTiming(
          r.path, field: field, what: "\(r.region.rawValue) mask", clip: clip, index: index,
          time: f.time - (firsts[j] ?? f.time),
          source: source, sourcePath: sourcePath)
        let top = UInt16(m.maxValue)
        for k in 0..<n {
          let v = m.samples[k]
          if v == top {
            codes[k] |= r.code
          } else if v != 0 {
            throw ConfigError(
              file: r.path, clip: clip, field: field,
              message:
                "is not a binary mask: frame \(index) pixel (\(k % m.width),\(k / m.width)) is \(v) of \(top) (masks hold 0 and \(top) only; save them losslessly, e.g. as PNG)"
            )
          }
        }
      }
      try writer.append(
        rgb: nil, alpha: GrayImage(width: source.size.width, height: source.size.height, maxValue: 255, samples: codes))
    }
    for r in readers {
      let extra: DecodedFrame? = (try? r.reader.nextFrame()) ?? nil
      if extra != nil {
        throw ConfigError(
          file: r.path, clip: clip, field: "masks.\(r.region.rawValue)",
          message:
            "the \(r.region.rawValue) mask has more frames than the source \(sourcePath) (\(source.times.count)); they must match frame for frame"
        )
      }
    }
    try writer.finish()
  }

  /// A clean plate is a picture (or a video of pictures) the size of the source.
  static func checkPlate(_ path: String, clip: String, source: SourceProbe) throws {
    do {
      let reader = try MediaInput.open(path, options: ReadOptions(rgb: .eight))
      guard reader.size == source.size else {
        throw ConfigError(
          file: path, clip: clip, field: "plate",
          message: "the clean plate is \(reader.size) but the source is \(source.size); they must match")
      }
      var frames = 0
      while try reader.nextFrame() != nil { frames += 1 }
      guard frames == 1 || frames == source.times.count else {
        throw ConfigError(
          file: path, clip: clip, field: "plate",
          message:
            "the clean plate has \(frames) frames: give one picture (static camera) or one per source frame (\(source.times.count))"
        )
      }
    } catch let e as MediaError {
      throw ConfigError(file: path, clip: clip, field: "plate", message: "is not a picture or video: \(e.reason)")
    }
  }

  /// Motion vectors: one readable H×W×2 field per frame after the first.
  static func checkMotion(_ path: String, clip: String, source: SourceProbe) throws {
    do {
      let fields = try MotionFields(folder: path, size: source.size)
      for t in 1..<max(source.times.count, 1) { _ = try fields.field(frame: t) }
    } catch let e as StandaloneScore.Failure {
      throw ConfigError(file: path, clip: clip, field: "motion", message: e.description)
    } catch let e as MediaError {
      throw ConfigError(file: path, clip: clip, field: "motion", message: e.reason)
    }
  }
}

/// One clip's lines in `clipset.yaml`.
struct ManifestEntry {
  var id: String
  var tags: [String]
  /// (key, file name in the clip's folder, sha256).
  var files: [(key: String, name: String, sha256: String?)] = []
  var maskRegions: [RegionKind] = []
  var crf: Int?
  var duration: Double?
  var size: String?
  var bitsPerPixel: Double?

  var yaml: String {
    var y = "  - id: \(id)\n"
    y += "    tags: [\(tags.joined(separator: ", "))]\n"
    for f in files where f.key == "source" {
      y += "    source: \(id)/\(f.name)\n"
      y += "    sha256: \(f.sha256!)\n"
    }
    if let crf { y += "    crf: \(crf)\n" }
    if let duration { y += "    duration: \(duration)\n" }
    if let size { y += "    size: \(size)\n" }
    if let bitsPerPixel { y += "    bits_per_pixel: \(String(format: "%.5f", bitsPerPixel))\n" }
    for f in files where f.key != "source" {
      let regions =
        f.key == "region_masks" ? ", regions: [\(maskRegions.map(\.rawValue).joined(separator: ", "))]" : ""
      y += "    \(f.key): {path: \(id)/\(f.name), sha256: \(f.sha256!)\(regions)}\n"
    }
    return y
  }
}

/// The seed's compression guardrail: a source coded with fewer bits per pixel per frame than
/// `threshold` may have lost its edge detail before any model sees it.
public enum CompressionGuard {
  /// Bits per pixel per frame below which a source is flagged (documented in clipsets/README.md).
  public static let threshold = 0.02

  /// File bits over pixels × frames.
  public static func bitsPerPixel(bytes: Int, width: Int, height: Int, frames: Int) -> Double {
    Double(bytes) * 8 / Double(max(width * height * frames, 1))
  }

  public static func warning(bitsPerPixel bpp: Double) -> String? {
    guard bpp.isFinite, bpp < threshold else { return nil }
    return String(
      format:
        "source is coded at %.4f bits per pixel per frame (below %.2f): edge detail may already be lost in the source",
      bpp, threshold)
  }
}
