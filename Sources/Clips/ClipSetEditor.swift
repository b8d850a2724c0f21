import Foundation
import MediaIO

/// Registers a user's clip in a clip set: copies its files into the set's folder (paths may not
/// leave it), pins them by sha256, probes the source's duration and size, and appends the clip
/// to `clipset.yaml` (created when the folder has none). The result is loaded and verified.
public enum ClipSetEditor {
  public struct NewClip: Sendable {
    public var id: String
    public var source: String
    public var tags: [String]
    public var alpha: String?
    public var cleanPlate: String?
    public var crf: Int?

    public init(
      id: String, source: String, tags: [String] = [], alpha: String? = nil, cleanPlate: String? = nil,
      crf: Int? = nil
    ) {
      self.id = id
      self.source = source
      self.tags = tags
      self.alpha = alpha
      self.cleanPlate = cleanPlate
      self.crf = crf
    }
  }

  /// What `add` did: the clip as loaded back, and its probed duration and size.
  public struct Added: Sendable {
    public var set: ClipSet
    public var clip: Clip
  }

  public static func add(_ new: NewClip, to folder: String) throws -> Added {
    let fm = FileManager.default
    let manifest = folder + "/" + ClipSet.manifestName
    if let problem = ClipID.problem(new.id) {
      let shown = new.id.count > ClipID.maxLength ? String(new.id.prefix(24)) + "…" : new.id
      throw ConfigError(file: manifest, clip: shown, field: "id", message: problem)
    }
    try OutputFolder.create(folder)
    var existing: ClipSet?
    if fm.fileExists(atPath: manifest) {
      existing = try ClipSet.load(folder: folder)
      if existing!.clips.contains(where: { $0.id == new.id }) {
        throw ConfigError(
          file: manifest, clip: new.id, field: "id", message: "a clip with this id is already registered")
      }
    }
    var tags = new.tags
    if new.alpha == nil && !tags.contains("no-gt") { tags.append("no-gt") }
    for tag in tags where !ClipSet.isKnownTag(tag) {
      throw ConfigError(
        file: manifest, clip: new.id, field: "tags",
        message: "unknown tag '\(tag)' (known: \(ClipSet.knownTags.sorted().joined(separator: ", ")), crfNN)")
    }
    // Every given file must exist before anything is copied.
    for (field, file) in [("source", new.source), ("alpha", new.alpha), ("clean_plate", new.cleanPlate)] {
      if let file, !fm.fileExists(atPath: file) {
        throw ConfigError(file: file, clip: new.id, field: field, message: "no such file")
      }
    }
    // The same bytes under a second id would count one clip twice in the paired test.
    let sourceHash = try FileHash.sha256(ofFile: new.source)
    if let twin = existing?.clips.first(where: { $0.source.sha256.lowercased() == sourceHash }) {
      throw ConfigError(
        file: new.source, clip: new.id, field: "source",
        message:
          "is the same source as clip '\(twin.id)' (sha256 \(sourceHash.prefix(12))…): one clip would count twice in the paired test"
      )
    }
    // Probe the source before copying anything: a file FFmpeg cannot read is refused here.
    let probe = try VideoReader(path: new.source, options: ReadOptions(rgb: .none))
    let size = "\(probe.size.width)x\(probe.size.height)"
    var frames = 0
    var last = 0.0
    while let f = try probe.nextFrame() {
      frames += 1
      last = f.time
    }
    guard frames > 0 else {
      throw ConfigError(file: new.source, clip: new.id, field: "source", message: "no video frames")
    }
    let interval = probe.frameRate > 0 ? 1 / probe.frameRate : 0
    let duration = ((last + interval) * 1000).rounded() / 1000
    let dir = folder + "/" + new.id
    try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
    func copy(_ path: String, as name: String, sha256 known: String? = nil) throws -> (String, String) {
      let ext = URL(fileURLWithPath: path).pathExtension
      let relative = new.id + "/" + name + (ext.isEmpty ? "" : "." + ext)
      let target = folder + "/" + relative
      if fm.fileExists(atPath: target) { try fm.removeItem(atPath: target) }
      try fm.copyItem(atPath: path, toPath: target)
      return (relative, try known ?? FileHash.sha256(ofFile: target))
    }
    // Hashed once above; `ClipSet.load` below verifies the copy against it.
    let source = try copy(new.source, as: "source", sha256: sourceHash)
    var yaml = ""
    if existing == nil {
      let name = URL(fileURLWithPath: folder).lastPathComponent
      yaml +=
        "# Clips registered with `mattegate clipset add`; every file pinned by sha256.\nname: \(name)\nversion: 1\nclips:\n"
    }
    yaml += "  - id: \(new.id)\n"
    yaml += "    tags: [\(tags.joined(separator: ", "))]\n"
    yaml += "    source: \(source.0)\n"
    yaml += "    sha256: \(source.1)\n"
    if let crf = new.crf { yaml += "    crf: \(crf)\n" }
    yaml += "    duration: \(duration)\n"
    yaml += "    size: \(size)\n"
    if let alpha = new.alpha {
      let a = try copy(alpha, as: "alpha")
      yaml += "    alpha: {path: \(a.0), sha256: \(a.1)}\n"
    }
    if let plate = new.cleanPlate {
      let p = try copy(plate, as: "plate")
      yaml += "    clean_plate: {path: \(p.0), sha256: \(p.1)}\n"
    }
    var text = (try? String(contentsOfFile: manifest, encoding: .utf8)) ?? ""
    if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
    try (text + yaml).write(toFile: manifest, atomically: true, encoding: .utf8)
    let set = try ClipSet.load(folder: folder)
    return Added(set: set, clip: set.clips.first { $0.id == new.id }!)
  }
}
