/// A clip's clean plate, frame by frame: one picture (a PNG, for a static camera) that serves
/// every frame, or a video with one picture per source frame (FFV1 RGB, for a moving camera).
public final class CleanPlate {
  public let path: String
  public let width: Int
  public let height: Int
  /// Whether the plate has a picture per frame (a moving camera).
  public let isSequence: Bool
  private let reader: VideoReader?
  private var current: RGBImage
  private var currentIndex: Int

  /// Opens `path`: a `.png` is one picture for every frame; anything else is read as a video.
  public init(path: String) throws(MediaError) {
    self.path = path
    if path.lowercased().hasSuffix(".png") {
      current = try PNGFile.readRGB(path)
      reader = nil
      isSequence = false
    } else {
      let reader = try VideoReader(path: path, rgb: true, alpha: .none)
      guard let first = try reader.nextFrame(), let rgb = first.rgb else {
        throw MediaError(path: path, reason: "the clean plate video has no picture")
      }
      current = rgb
      self.reader = reader
      isSequence = true
    }
    currentIndex = 0
    width = current.width
    height = current.height
  }

  /// The plate of frame `index` (0-based). A video plate is read forward: indices must not go
  /// back, and a frame the plate does not have is an error naming the file.
  public func picture(at index: Int) throws(MediaError) -> RGBImage {
    guard let reader else { return current }
    guard index >= currentIndex else {
      throw MediaError(
        path: path, reason: "clean plate frame \(index) was asked after frame \(currentIndex) (read forward only)")
    }
    while currentIndex < index {
      guard let next = try reader.nextFrame(), let rgb = next.rgb else {
        throw MediaError(
          path: path, reason: "the clean plate has \(currentIndex + 1) frames but frame \(index) was asked")
      }
      current = rgb
      currentIndex += 1
    }
    return current
  }
}

@available(*, unavailable)
extension CleanPlate: Sendable {}
