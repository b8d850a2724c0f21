internal import CPNG
public import Foundation

/// Writes a ZIP archive entry by entry: raw deflate at level 1 (fast; ground truth is written by
/// the thousand), CRC-32 from zlib, a fixed modification date so that the same entries always
/// give the same bytes. No ZIP64: an archive or entry beyond 4 GiB is refused.
public final class ZipWriter {
  public let path: String
  private let handle: FileHandle
  private var offset: UInt64 = 0
  private var central = Data()
  private var entries = 0
  private var closed = false
  /// 2000-01-01 00:00 in MS-DOS time and date.
  private static let dosTime: UInt16 = 0
  private static let dosDate: UInt16 = (20 << 9) | (1 << 5) | 1

  public init(path: String) throws(MediaError) {
    self.path = path
    guard FileManager.default.createFile(atPath: path, contents: nil),
      let handle = FileHandle(forWritingAtPath: path)
    else { throw MediaError(path: path, reason: "cannot create the ZIP archive") }
    self.handle = handle
  }

  deinit {
    if !closed { try? handle.close() }
  }

  public func add(_ name: String, data: Data) throws(MediaError) {
    let nameBytes = Data(name.utf8)
    let bound = Int(cpng_deflate_bound(UInt(data.count)))
    var compressed = Data(count: bound)
    let size = compressed.withUnsafeMutableBytes { out in
      data.withUnsafeBytes { input in
        cpng_deflate_raw(
          input.bindMemory(to: UInt8.self).baseAddress, UInt(data.count),
          out.bindMemory(to: UInt8.self).baseAddress, UInt(bound), 1)
      }
    }
    guard size >= 0 else { throw MediaError(path: path, reason: "cannot deflate '\(name)'") }
    compressed.count = size
    let crc = data.withUnsafeBytes { raw in
      UInt32(truncatingIfNeeded: cpng_crc32(0, raw.bindMemory(to: UInt8.self).baseAddress, UInt32(data.count)))
    }
    guard entries < Int(UInt16.max) else { throw MediaError(path: path, reason: "more than 65 534 entries (no ZIP64)") }
    guard data.count < Int(UInt32.max), offset + UInt64(30 + nameBytes.count + size) < UInt64(UInt32.max) else {
      throw MediaError(path: path, reason: "'\(name)' would take the archive beyond 4 GiB (no ZIP64)")
    }
    var local = Data()
    local.append(le32: 0x0403_4b50)
    local.append(le16: 20)  // version needed
    local.append(le16: 0)  // flags
    local.append(le16: 8)  // deflate
    local.append(le16: Self.dosTime)
    local.append(le16: Self.dosDate)
    local.append(le32: crc)
    local.append(le32: UInt32(size))
    local.append(le32: UInt32(data.count))
    local.append(le16: UInt16(nameBytes.count))
    local.append(le16: 0)
    local.append(nameBytes)
    var record = Data()
    record.append(le32: 0x0201_4b50)
    record.append(le16: 20)  // version made by
    record.append(le16: 20)
    record.append(le16: 0)
    record.append(le16: 8)
    record.append(le16: Self.dosTime)
    record.append(le16: Self.dosDate)
    record.append(le32: crc)
    record.append(le32: UInt32(size))
    record.append(le32: UInt32(data.count))
    record.append(le16: UInt16(nameBytes.count))
    record.append(le16: 0)  // extra
    record.append(le16: 0)  // comment
    record.append(le16: 0)  // disk
    record.append(le16: 0)  // internal attributes
    record.append(le32: 0o100644 << 16)  // external: a regular file, rw-r--r--
    record.append(le32: UInt32(offset))
    record.append(nameBytes)
    do {
      try handle.write(contentsOf: local)
      try handle.write(contentsOf: compressed)
    } catch {
      throw MediaError(path: path, reason: "cannot write '\(name)': \(error)")
    }
    offset += UInt64(local.count + size)
    central.append(record)
    entries += 1
  }

  /// Writes the central directory and closes the file.
  public func finish() throws(MediaError) {
    guard !closed else { return }
    var end = Data()
    end.append(le32: 0x0605_4b50)
    end.append(le16: 0)
    end.append(le16: 0)
    end.append(le16: UInt16(entries))
    end.append(le16: UInt16(entries))
    end.append(le32: UInt32(central.count))
    end.append(le32: UInt32(offset))
    end.append(le16: 0)
    do {
      try handle.write(contentsOf: central)
      try handle.write(contentsOf: end)
      try handle.close()
    } catch {
      throw MediaError(path: path, reason: "cannot finish the ZIP archive: \(error)")
    }
    closed = true
  }
}

extension Data {
  fileprivate mutating func append(le16 v: UInt16) {
    append(contentsOf: [UInt8(v & 0xFF), UInt8(v >> 8)])
  }

  fileprivate mutating func append(le32 v: UInt32) {
    append(contentsOf: [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 24)])
  }
}
