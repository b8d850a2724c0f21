public import Foundation
internal import ZIPFoundation

/// Writes a ZIP archive entry by entry (deflate), with a fixed modification date so that the
/// same entries always give the same bytes.
public final class ZipWriter {
  public let path: String
  private let archive: Archive
  private static let fixedDate = Date(timeIntervalSince1970: 946_684_800)  // 2000-01-01

  public init(path: String) throws(MediaError) {
    self.path = path
    try? FileManager.default.removeItem(atPath: path)
    do {
      archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
    } catch {
      throw MediaError(path: path, reason: "cannot create the ZIP archive: \(error)")
    }
  }

  public func add(_ name: String, data: Data) throws(MediaError) {
    do {
      try archive.addEntry(
        with: name, type: .file, uncompressedSize: Int64(data.count), modificationDate: Self.fixedDate,
        compressionMethod: .deflate
      ) { position, size in
        data.subdata(in: Int(position)..<Int(position) + size)
      }
    } catch {
      throw MediaError(path: path, reason: "cannot add '\(name)': \(error)")
    }
  }
}
