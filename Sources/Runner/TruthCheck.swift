public import Clips
import Foundation
import MediaIO

/// The checks a clip's ground truth passes before anything is submitted for it: the alpha and
/// the region masks match the source frame for frame (counted and timed from the container's
/// packets, without decoding) and in size, and the alpha is a matte, not a colour picture. A clip that
/// fails is a failed clip (exit 1) that costs nothing; the other clips go on.
public enum TruthCheck {
  public static func check(clip: Clip, in set: ClipSet) throws {
    let sourcePath = set.path(of: clip.source)
    let sourceSize = try MediaInput.open(sourcePath, options: ReadOptions(rgb: .none)).size
    // The clean plate, when there is one: the source's size.
    if let plate = clip.cleanPlate {
      let path = set.path(of: plate)
      let size = try MediaInput.open(path, options: ReadOptions(rgb: .none)).size
      guard size == sourceSize else {
        throw ClipScoringError(
          description:
            "\(path): the clean plate is \(size) but the source \(sourcePath) is \(sourceSize); they must match")
      }
    }
    guard let alpha = clip.alpha else { return }
    let source = try StreamTiming(path: sourcePath)
    var files = [("ground-truth alpha", set.path(of: alpha))]
    if let masks = clip.regionMasks { files.append(("region masks", set.path(of: masks))) }
    for (what, path) in files {
      let timing = try StreamTiming(path: path)
      guard timing.frames == source.frames else {
        throw ClipScoringError(
          description:
            "\(path): the \(what) has \(timing.frames) frames but the source \(sourcePath) has \(source.frames); they must match frame for frame"
        )
      }
      // Frame times, from the first frame on, within half a source frame of the source's.
      let interval = source.frameRate > 0 ? 1 / source.frameRate : 0.04
      for i in 0..<timing.frames {
        let offset = (timing.times[i] - timing.times[0]) - (source.times[i] - source.times[0])
        guard abs(offset) <= AlignmentPolicy().window * interval + 1e-6 else {
          throw ClipScoringError(
            description: String(
              format:
                "%@: the %@'s frame %d is at %.3f s but source frame %d is at %.3f s (%.3f s apart, more than half a frame of %.3f s)",
              path, what, i, timing.times[i] - timing.times[0], i, source.times[i] - source.times[0], offset, interval))
        }
      }
      let size = try MediaInput.open(path, options: ReadOptions(rgb: .none)).size
      guard size == sourceSize else {
        throw ClipScoringError(
          description: "\(path): the \(what) is \(size) but the source \(sourcePath) is \(sourceSize); they must match")
      }
    }
    // The alpha as `score` reads it: decoding its first frame refuses a colour picture.
    _ = try StandaloneScore.open(set.path(of: alpha)).nextFrame()
  }
}
