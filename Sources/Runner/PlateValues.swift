import MatteMetrics
import MediaIO

/// A clip's clean plate as values for the reference composite: a picture converted once for a
/// static camera, or the picture of each frame for a moving one.
struct PlateValues {
  private let plate: CleanPlate
  private var converted: RGBPicture?

  /// Opens `path` and checks it has the ground truth's size; the error names the file.
  init(path: String, size: PixelSize) throws(MediaError) {
    plate = try CleanPlate(path: path)
    guard plate.width == size.width, plate.height == size.height else {
      throw MediaError(
        path: path, reason: "the clean plate is \(plate.width)x\(plate.height) but the ground truth is \(size)")
    }
  }

  /// The plate of frame `index` (read forward).
  mutating func values(at index: Int) throws(MediaError) -> RGBPicture {
    if let converted, !plate.isSequence { return converted }
    let p = try plate.picture(at: index)
    let values = RGBPicture(width: p.width, height: p.height, bytes: p.pixels)
    converted = values
    return values
  }
}
