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

  public init(
    id: String, tags: [String], source: PinnedFile, crf: Int? = nil, alpha: PinnedFile? = nil,
    regionMasks: PinnedFile? = nil, cleanPlate: PinnedFile? = nil
  ) {
    self.id = id
    self.tags = tags
    self.source = source
    self.crf = crf
    self.alpha = alpha
    self.regionMasks = regionMasks
    self.cleanPlate = cleanPlate
  }
}

/// Bits of the codes in a clip's region-mask video.
public enum RegionMaskCodes {
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

  public static let manifestName = "clipset.yaml"

  /// Tags a clip may carry; `crfNN` names a compression level.
  public static let knownTags: Set<String> = [
    "hair", "glass", "motion", "hands", "fast-turn", "short", "long", "difficult",
  ]

  public static func isKnownTag(_ tag: String) -> Bool {
    if knownTags.contains(tag) { return true }
    if tag.hasPrefix("crf"), let n = Int(tag.dropFirst(3)), (0...63).contains(n) { return true }
    return false
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
    var clips: [Clip] = []
    var seen: Set<String> = []
    for entry in entries {
      let id = try entry.requiredString("id")
      let e = entry.naming(clip: id)
      guard seen.insert(id).inserted else {
        throw e.error(line: e.line(of: "id"), field: "id", "duplicate clip id")
      }
      guard id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else {
        throw e.error(line: e.line(of: "id"), field: "id", "may contain only letters, digits, '-', '_' and '.'")
      }
      try e.rejectUnknownKeys(["id", "tags", "source", "sha256", "crf", "alpha", "region_masks", "clean_plate"])
      let tags = try e.stringList("tags") ?? []
      for tag in tags where !isKnownTag(tag) {
        throw e.error(
          line: e.line(of: "tags"), field: "tags",
          "unknown tag '\(tag)' (known: \(knownTags.sorted().joined(separator: ", ")), crfNN)")
      }
      let source = PinnedFile(path: try e.requiredString("source"), sha256: try e.requiredString("sha256"))
      try check(source, field: "source", in: e, root: root, verify: verifyHashes)
      let crf = try e.int("crf")
      func pinned(_ key: String) throws(ConfigError) -> PinnedFile? {
        guard let m = try e.map(key) else { return nil }
        try m.rejectUnknownKeys(["path", "sha256"])
        let file = PinnedFile(path: try m.requiredString("path"), sha256: try m.requiredString("sha256"))
        try check(file, field: key, in: m, root: root, verify: verifyHashes)
        return file
      }
      clips.append(
        Clip(
          id: id, tags: tags, source: source, crf: crf, alpha: try pinned("alpha"),
          regionMasks: try pinned("region_masks"), cleanPlate: try pinned("clean_plate")))
    }
    let manifestHash: String
    do { manifestHash = try FileHash.sha256(ofFile: manifestPath) } catch {
      throw ConfigError(file: manifestPath, message: "cannot be read")
    }
    return ClipSet(
      name: name, version: version, description: description, clips: clips, folder: root,
      manifestSHA256: manifestHash)
  }

  private static func check(
    _ file: PinnedFile, field: String, in map: YAMLMap, root: String, verify: Bool
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
      do { actual = try FileHash.sha256(ofFile: resolved) } catch {
        throw map.error(line: line, field: field, "file '\(file.path)' cannot be read")
      }
      guard actual == hex else {
        throw map.error(
          line: map.line(of: "sha256"), field: field,
          "sha256 mismatch for '\(file.path)': pinned \(hex), file has \(actual)")
      }
    }
  }
}
