import Foundation
import MediaIO

/// A file inside a clip set folder, pinned by content hash.
public struct PinnedFile: Sendable, Equatable {
  /// Path relative to the clip set folder.
  public var path: String
  public var sha256: String

  public init(path: String, sha256: String) {
    self.path = path
    self.sha256 = sha256
  }
}

/// One clip of a clip set.
public struct Clip: Sendable, Equatable {
  public var id: String
  public var tags: [String]
  public var source: PinnedFile
  /// CRF the source was encoded with, when known.
  public var crf: Int?
  /// Ground-truth alpha (lossless, 16-bit gray video).
  public var alpha: PinnedFile?
  /// Region masks: 8-bit gray video whose codes carry `RegionMaskCodes` bits.
  public var regionMasks: PinnedFile?
  /// Clean plate: the background without the foreground, as a PNG.
  public var cleanPlate: PinnedFile?
  /// Ground-truth foreground colour (lossless video).
  public var foreground: PinnedFile?
  /// Motion vectors: a folder of `<frame>.npy` (H×W×2 float32, forward t−1→t), pinned by the
  /// hash of its files in name order.
  public var motion: PinnedFile?
  /// Background pictures for bg_type=image tests, by aspect class (exact, close, large).
  public var backgrounds: [String: PinnedFile]
  /// Duration in seconds and picture size, as probed when the clip was registered.
  public var duration: Double?
  public var size: String?
  /// The source's bits per pixel per frame (file size over pixels × frames), at registration.
  public var bitsPerPixel: Double?
  /// The regions the region-mask video carries; the others are derived from ground truth.
  /// Sets that do not say carry hair and glass (the synthetic generator's motion bit is left
  /// to the derived region).
  public var maskRegions: [String] = ["hair", "glass"]

  /// A clip without ground-truth alpha gets only the no-ground-truth measures.
  public var hasGroundTruth: Bool { alpha != nil }

  public init(
    id: String, tags: [String], source: PinnedFile, crf: Int? = nil, alpha: PinnedFile? = nil,
    regionMasks: PinnedFile? = nil, cleanPlate: PinnedFile? = nil, foreground: PinnedFile? = nil,
    motion: PinnedFile? = nil, backgrounds: [String: PinnedFile] = [:], duration: Double? = nil, size: String? = nil
  ) {
    self.id = id
    self.tags = tags
    self.source = source
    self.crf = crf
    self.alpha = alpha
    self.regionMasks = regionMasks
    self.cleanPlate = cleanPlate
    self.foreground = foreground
    self.motion = motion
    self.backgrounds = backgrounds
    self.duration = duration
    self.size = size
  }
}

/// Bits of the codes in a clip's region-mask video.
public enum RegionMaskCodes {
  public static let motion: UInt16 = 32
  public static let hair: UInt16 = 64
  public static let glass: UInt16 = 128
}

/// A loaded, verified clip set: every path inside the folder, every hash checked.
public struct ClipSet: Sendable, Equatable {
  public var name: String
  public var version: Int
  public var description: String?
  public var clips: [Clip]
  /// The clip set folder.
  public var folder: String
  /// SHA-256 of `clipset.yaml` as read: pins the whole set.
  public var manifestSHA256: String
  /// Whether loading checked every pinned file against its sha256 (`load(verifyHashes: true)`):
  /// then a ZIP member's own CRC-32 checks again what the hash already pinned, and scoring skips
  /// it. Not part of a set's identity (equality ignores it).
  public var hashesVerified = false

  public static func == (l: ClipSet, r: ClipSet) -> Bool {
    l.name == r.name && l.version == r.version && l.description == r.description && l.clips == r.clips
      && l.folder == r.folder && l.manifestSHA256 == r.manifestSHA256
  }

  public static let manifestName = "clipset.yaml"

  /// Tags with a meaning to mattegate (coverage and the sample-set rule); `crfNN` names a
  /// compression level. Any other tag is the user's own and is kept as given.
  public static let knownTags: Set<String> = [
    "hair", "glass", "motion", "hands", "fast-turn", "short", "long", "difficult", "no-gt", "panning", "static",
  ]

  /// Aspect classes of the background pictures a clip may carry.
  public static let backgroundClasses = ["exact", "close", "large"]

  /// Why `tag` cannot be a tag (1–40 ASCII letters, digits, '-', '_', '.', '=', ':'), or nil.
  public static func tagProblem(_ tag: String) -> String? {
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.=:")
    guard !tag.isEmpty, tag.count <= 40, tag.allSatisfy({ allowed.contains($0) }) else {
      return "tag '\(tag.prefix(40))' must be 1–40 ASCII letters, digits, '-', '_', '.', '=' or ':'"
    }
    return nil
  }

  public static func isKnownTag(_ tag: String) -> Bool {
    if knownTags.contains(tag) { return true }
    if tag.hasPrefix("crf"), let n = Int(tag.dropFirst(3)), (0...63).contains(n) { return true }
    return false
  }

  /// SHA-256 of a file, or of a folder: the hash of the lines "<name> <sha256>" of its files
  /// in name order (motion-vector folders).
  public static func contentHash(of path: String) throws -> String {
    guard try InputFile.check(path, allowFolder: true) == .folder else { return try FileHash.sha256(ofFile: path) }
    let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted()
    var listing = ""
    for name in names { listing += "\(name) \(try FileHash.sha256(ofFile: path + "/" + name))\n" }
    return FileHash.sha256(of: Data(listing.utf8))
  }

  /// The absolute path of a file of this set.
  public func path(of file: PinnedFile) -> String { folder + "/" + file.path }

  /// Loads `folder/clipset.yaml` and checks every clip: known keys and tags, unique ids, paths
  /// that stay inside the folder, files present and matching their sha256.
  ///
  /// - Throws: `ConfigError` naming the file, line, clip and field.
  public static func load(folder: String, verifyHashes: Bool = true) throws(ConfigError) -> ClipSet {
    var isDir: ObjCBool = false
    guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
      throw ConfigError(file: folder, message: "clip set folder not found")
    }
    let root = URL(fileURLWithPath: folder).standardizedFileURL.path
    let manifestPath = root + "/" + manifestName
    let doc = try YAMLMap.load(manifestPath)
    try doc.rejectUnknownKeys(["name", "version", "description", "clips"])
    let name = try doc.requiredString("name")
    guard let version = try doc.int("version") else {
      throw doc.error(line: nil, field: "version", "is required")
    }
    let description = try doc.string("description")
    guard let entries = try doc.mapList("clips"), !entries.isEmpty else {
      throw doc.error(line: doc.line(of: "clips"), field: "clips", "must list at least one clip")
    }
    guard entries.count <= InputLimits.maxClips else {
      throw doc.error(
        line: doc.line(of: "clips"), field: "clips",
        "lists \(entries.count) clips, more than the limit of \(InputLimits.maxClips)")
    }
    var clips: [Clip] = []
    var seen: Set<String> = []
    // Each source once: the same bytes under two ids would count one clip twice in the paired test.
    var ownerBySHA256: [String: String] = [:]
    var ownerByPath: [String: String] = [:]
    // Hash mismatches are collected so that one error lists every changed file.
    var changed: [String] = []
    for entry in entries {
      let id = try entry.requiredString("id")
      let e = entry.naming(clip: id)
      guard seen.insert(id).inserted else {
        throw e.error(line: e.line(of: "id"), field: "id", "duplicate clip id")
      }
      if let problem = ClipID.problem(id) { throw e.error(line: e.line(of: "id"), field: "id", problem) }
      try e.rejectUnknownKeys([
        "id", "tags", "source", "sha256", "crf", "alpha", "region_masks", "clean_plate", "foreground", "motion",
        "backgrounds", "duration", "size", "bits_per_pixel",
      ])
      let tags = try e.stringList("tags") ?? []
      for tag in tags {
        if let problem = tagProblem(tag) { throw e.error(line: e.line(of: "tags"), field: "tags", problem) }
      }
      let source = PinnedFile(path: try e.requiredString("source"), sha256: try e.requiredString("sha256"))
      try check(source, field: "source", in: e, root: root, verify: verifyHashes, changed: &changed)
      let sourcePath = URL(fileURLWithPath: root + "/" + source.path).standardizedFileURL.path
      if let owner = ownerBySHA256[source.sha256.lowercased()] ?? ownerByPath[sourcePath] {
        throw e.error(
          line: e.line(of: "source"), field: "source",
          "is the same source as clip '\(owner)' (sha256 \(source.sha256.prefix(12))…): one clip would count twice in the paired test"
        )
      }
      ownerBySHA256[source.sha256.lowercased()] = id
      ownerByPath[sourcePath] = id
      let crf = try e.int("crf")
      if let crf, !(0...63).contains(crf) {
        throw e.error(line: e.line(of: "crf"), field: "crf", "\(crf) is not a CRF (0…63)")
      }
      let duration = try e.double("duration")
      if let duration, !(duration.isFinite && duration > 0) {
        throw e.error(
          line: e.line(of: "duration"), field: "duration", "must be a positive number of seconds, not \(duration)")
      }
      var maskRegions = ["hair", "glass"]
      func pinned(_ key: String, in parent: YAMLMap) throws(ConfigError) -> PinnedFile? {
        guard let m = try parent.map(key) else { return nil }
        try m.rejectUnknownKeys(key == "region_masks" ? ["path", "sha256", "regions"] : ["path", "sha256"])
        if key == "region_masks", let regions = try m.stringList("regions") {
          for r in regions where !["hair", "glass", "motion"].contains(r) {
            throw m.error(
              line: m.line(of: "regions"), field: "regions", "'\(r)' is not a mask region (hair, glass, motion)")
          }
          maskRegions = regions
        }
        let file = PinnedFile(path: try m.requiredString("path"), sha256: try m.requiredString("sha256"))
        try check(file, field: key, in: m, root: root, verify: verifyHashes, changed: &changed)
        return file
      }
      var backgrounds: [String: PinnedFile] = [:]
      if let b = try e.map("backgrounds") {
        try b.rejectUnknownKeys(Set(backgroundClasses))
        for c in backgroundClasses { backgrounds[c] = try pinned(c, in: b) }
      }
      if let size = try e.string("size") {
        let parts = size.split(separator: "x")
        guard parts.count == 2, parts.allSatisfy({ Int($0).map { $0 > 0 } ?? false }) else {
          throw e.error(line: e.line(of: "size"), field: "size", "'\(size)' is not WIDTHxHEIGHT")
        }
      }
      let alpha = try pinned("alpha", in: e)
      if tags.contains("no-gt") && alpha != nil {
        throw e.error(line: e.line(of: "tags"), field: "tags", "tag 'no-gt' on a clip that has ground-truth alpha")
      }
      let bpp = try e.double("bits_per_pixel")
      if let bpp, !(bpp.isFinite && bpp > 0) {
        throw e.error(
          line: e.line(of: "bits_per_pixel"), field: "bits_per_pixel", "must be a positive number, not \(bpp)")
      }
      var clip = Clip(
        id: id, tags: tags, source: source, crf: crf, alpha: alpha,
        regionMasks: try pinned("region_masks", in: e), cleanPlate: try pinned("clean_plate", in: e),
        foreground: try pinned("foreground", in: e), motion: try pinned("motion", in: e), backgrounds: backgrounds,
        duration: duration, size: try e.string("size"))
      clip.bitsPerPixel = bpp
      clip.maskRegions = maskRegions
      clips.append(clip)
    }
    if !changed.isEmpty {
      throw ConfigError(
        file: manifestPath,
        message:
          "\(changed.count) file\(changed.count == 1 ? "" : "s") changed since pinning (sha256 differs): "
          + changed.joined(separator: "; "))
    }
    let manifestHash: String
    do { manifestHash = try FileHash.sha256(ofFile: manifestPath) } catch {
      throw ConfigError(file: manifestPath, message: "cannot be read")
    }
    var set = ClipSet(
      name: name, version: version, description: description, clips: clips, folder: root,
      manifestSHA256: manifestHash)
    set.hashesVerified = verifyHashes
    return set
  }

  private static func check(
    _ file: PinnedFile, field: String, in map: YAMLMap, root: String, verify: Bool, changed: inout [String]
  ) throws(ConfigError) {
    let line = map.line(of: field == "source" ? "source" : "path")
    if file.path.hasPrefix("/") {
      throw map.error(line: line, field: field, "path '\(file.path)' must be relative to the clip set folder")
    }
    let resolved = URL(fileURLWithPath: root + "/" + file.path).standardizedFileURL.resolvingSymlinksInPath().path
    let rootResolved = URL(fileURLWithPath: root).resolvingSymlinksInPath().path
    guard resolved.hasPrefix(rootResolved + "/") else {
      throw map.error(line: line, field: field, "path '\(file.path)' leaves the clip set folder")
    }
    guard FileManager.default.fileExists(atPath: resolved) else {
      throw map.error(line: line, field: field, "file '\(file.path)' not found")
    }
    let hex = file.sha256.lowercased()
    guard hex.count == 64, hex.allSatisfy({ $0.isHexDigit }) else {
      throw map.error(line: map.line(of: "sha256"), field: field, "sha256 must be 64 hex digits")
    }
    if verify {
      let actual: String
      do { actual = try contentHash(of: resolved) } catch let error as MediaError {
        throw map.error(line: line, field: field, "file '\(file.path)' \(error.reason)")
      } catch {
        throw map.error(line: line, field: field, "file '\(file.path)' cannot be read")
      }
      if actual != hex {
        let at = map.line(of: "sha256").map { "line \($0), " } ?? ""
        changed.append(
          "\(at)clip '\(map.clip ?? "?")', field \(field): '\(file.path)' pinned \(hex.prefix(12))…, now \(actual.prefix(12))…"
        )
      }
    }
  }
}

extension Clip {
  /// The codes of the regions the clip's mask video carries (0: derived from ground truth).
  public var ownMaskCodes: (hair: UInt16, glass: UInt16, motion: UInt16) {
    (
      maskRegions.contains("hair") ? RegionMaskCodes.hair : 0,
      maskRegions.contains("glass") ? RegionMaskCodes.glass : 0,
      maskRegions.contains("motion") ? RegionMaskCodes.motion : 0
    )
  }
}
