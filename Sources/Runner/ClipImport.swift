import Clips
import Foundation
import MatteMetrics
import MediaIO

/// `clipset import DIR --from FOLDER`: one clip per subfolder of FOLDER, named by the clip id,
/// laid out as clipsets/README.md documents. Each clip goes through `ClipIntake.add`, so each
/// is checked whole and pinned in the manifest on its own: an interrupted import leaves a valid
/// manifest holding the clips imported so far, and running it again skips them.
public enum ClipImport {
  public struct Outcome: Sendable {
    public var clip: String
    /// "imported", "skipped" (already registered) or "refused".
    public var status: String
    public var detail: String
  }

  /// The request one subfolder makes, or why it cannot make one.
  public static func request(folder: String, id: String) throws -> ClipIntake.Request {
    let fm = FileManager.default
    let names = try fm.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }.sorted()
    func stem(_ name: String) -> String { (name as NSString).deletingPathExtension }
    func one(_ base: String, in list: [String], under dir: String) throws -> String? {
      let hits = list.filter { stem($0) == base }
      guard hits.count <= 1 else {
        throw ConfigError(
          file: dir, clip: id, field: base,
          message: "has \(hits.count) candidates (\(hits.joined(separator: ", "))); keep one")
      }
      return hits.first.map { dir + "/" + $0 }
    }
    var known: Set<String> = []
    guard let source = try one("source", in: names, under: folder) else {
      throw ConfigError(file: folder, clip: id, field: "source", message: "no source.* file (the clip's source video)")
    }
    var request = ClipIntake.Request(id: id, source: source)
    known.insert(stem(source))
    request.alpha = try one("alpha", in: names, under: folder)
    request.plate = try one("plate", in: names, under: folder)
    request.motion = try one("motion", in: names, under: folder)
    known.formUnion(["source", "alpha", "plate", "motion", "masks", "tags", "crf"])
    let masksDir = folder + "/masks"
    if names.contains("masks") {
      let maskNames = try fm.contentsOfDirectory(atPath: masksDir).filter { !$0.hasPrefix(".") }.sorted()
      for name in maskNames where !["hair", "glass", "motion"].contains(stem(name)) {
        throw ConfigError(
          file: masksDir + "/" + name, clip: id, field: "masks",
          message: "is not a mask mattegate knows (masks/hair, masks/glass, masks/motion)")
      }
      for region in [RegionKind.hair, .glass, .motion] {
        if let path = try one(region.rawValue, in: maskNames, under: masksDir) { request.masks[region] = path }
      }
    }
    if names.contains("tags.txt") {
      let text = try String(contentsOfFile: folder + "/tags.txt", encoding: .utf8)
      request.tags = text.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
    }
    if names.contains("crf.txt") {
      let text = try String(contentsOfFile: folder + "/crf.txt", encoding: .utf8).trimmingCharacters(
        in: .whitespacesAndNewlines)
      guard let crf = Int(text) else {
        throw ConfigError(
          file: folder + "/crf.txt", clip: id, field: "crf", message: "'\(text.prefix(20))' is not a number")
      }
      request.crf = crf
    }
    for name in names where !known.contains(stem(name)) {
      throw ConfigError(
        file: folder + "/" + name, clip: id, field: nil,
        message:
          "is not part of the import layout (source, alpha, plate, motion, masks/, tags.txt, crf.txt); move it out or rename it"
      )
    }
    return request
  }

  /// Imports every subfolder of `from` into the set at `folder`, in name order; `report` is
  /// called after each clip.
  public static func run(into folder: String, from: String, report: (Outcome) -> Void = { _ in }) throws -> [Outcome] {
    guard (try? InputFile.check(from, allowFolder: true)) == .folder else {
      throw ConfigError(file: from, message: "is not a folder of clip folders")
    }
    let fm = FileManager.default
    let subfolders = try fm.contentsOfDirectory(atPath: from).filter { !$0.hasPrefix(".") }.sorted().filter {
      (try? InputFile.check(from + "/" + $0, allowFolder: true)) == .folder
    }
    guard !subfolders.isEmpty else { throw ConfigError(file: from, message: "holds no clip folders") }
    var outcomes: [Outcome] = []
    for id in subfolders {
      let manifest = folder + "/" + ClipSet.manifestName
      let outcome: Outcome
      if fm.fileExists(atPath: manifest), let set = try? ClipSet.load(folder: folder, verifyHashes: false),
        set.clips.contains(where: { $0.id == id })
      {
        outcome = Outcome(clip: id, status: "skipped", detail: "already in the set")
      } else {
        do {
          let added = try ClipIntake.add(try request(folder: from + "/" + id, id: id), to: folder)
          let c = added.clip
          var detail = "\(c.size ?? "?"), \(c.duration.map { String(format: "%.3f s", $0) } ?? "?")"
          detail += c.hasGroundTruth ? "" : ", no ground truth"
          if c.regionMasks != nil { detail += ", own masks: \(c.maskRegions.joined(separator: ", "))" }
          if !added.warnings.isEmpty { detail += "; warning: " + added.warnings.joined(separator: "; ") }
          outcome = Outcome(clip: id, status: "imported", detail: detail)
        } catch {
          outcome = Outcome(clip: id, status: "refused", detail: "\(error)")
        }
      }
      outcomes.append(outcome)
      report(outcome)
    }
    return outcomes
  }
}
