internal import CPNG
public import Foundation
internal import ZIPFoundation

/// A ZIP archive opened for reading with the checks an untrusted service output needs: no
/// absolute paths or `..` components, no links, declared sizes within limits and plausible for
/// their compressed size, and never more bytes read than declared.
public final class SafeZip {
  /// One regular file in the archive.
  public struct Member: Sendable, Equatable {
    public var path: String
    public var uncompressedSize: UInt64
  }

  /// Largest declared size of one member (2 GiB).
  public static let maxMemberSize: UInt64 = 2 << 30
  /// Largest declared size of all members together (16 GiB).
  public static let maxTotalSize: UInt64 = 16 << 30
  /// Deflate cannot compress better than about 1032:1; a larger declared ratio is a lie.
  public static let maxRatio: UInt64 = 1100

  public let path: String
  public let members: [Member]
  private let archive: Archive
  private let entries: [String: Entry]

  public init(path: String) throws(MediaError) {
    self.path = path
    let archive: Archive
    do {
      archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read)
    } catch {
      throw MediaError(path: path, reason: "not a readable ZIP archive (\(error))")
    }
    self.archive = archive
    var members: [Member] = []
    var entries: [String: Entry] = [:]
    var total: UInt64 = 0
    for entry in archive {
      let name = entry.path
      if let problem = Self.unsafeReason(name) {
        throw MediaError(path: path, reason: "ZIP entry '\(name)' \(problem); refusing the archive")
      }
      switch entry.type {
      case .directory:
        continue
      case .symlink:
        throw MediaError(path: path, reason: "ZIP entry '\(name)' is a symbolic link; refusing the archive")
      case .file:
        break
      }
      let size = entry.uncompressedSize
      let packed = entry.compressedSize
      if size > Self.maxMemberSize {
        throw MediaError(
          path: path,
          reason: "ZIP entry '\(name)' declares \(size) bytes, more than the \(Self.maxMemberSize)-byte limit")
      }
      if entry.isCompressed ? size > max(packed, 1) * Self.maxRatio : size != packed {
        throw MediaError(
          path: path,
          reason:
            "ZIP entry '\(name)' declares \(size) bytes from \(packed) compressed bytes, which no real compression gives (ZIP bomb?)"
        )
      }
      total += size
      if total > Self.maxTotalSize {
        throw MediaError(path: path, reason: "ZIP entries declare more than \(Self.maxTotalSize) bytes in total")
      }
      guard entries[name] == nil else {
        throw MediaError(path: path, reason: "ZIP entry '\(name)' appears twice")
      }
      entries[name] = entry
      members.append(Member(path: name, uncompressedSize: size))
    }
    self.members = members
    self.entries = entries
  }

  /// Why a member name is unsafe to use, or `nil`.
  static func unsafeReason(_ name: String) -> String? {
    if name.isEmpty { return "has an empty name" }
    if name.hasPrefix("/") || name.hasPrefix("\\") { return "has an absolute path" }
    if name.count >= 2, name.dropFirst().first == ":" { return "has a drive-letter path" }
    let parts = name.split(whereSeparator: { $0 == "/" || $0 == "\\" })
    if parts.contains("..") { return "leaves the archive with '..'" }
    if name.contains("\0") { return "has a NUL byte in its name" }
    return nil
  }

  /// The bytes of `member`, checked against its declared size and CRC.
  public func read(_ member: String) throws(MediaError) -> Data {
    guard let entry = entries[member] else {
      throw MediaError(path: path, reason: "ZIP has no entry '\(member)'")
    }
    var data = Data()
    data.reserveCapacity(Int(entry.uncompressedSize))
    try consume(entry) { chunk in data.append(chunk) }
    return data
  }

  /// Writes `member` to `destination` (a path the caller chose), never more than declared.
  public func extract(_ member: String, to destination: String) throws(MediaError) {
    guard let entry = entries[member] else {
      throw MediaError(path: path, reason: "ZIP has no entry '\(member)'")
    }
    guard FileManager.default.createFile(atPath: destination, contents: nil),
      let handle = FileHandle(forWritingAtPath: destination)
    else {
      throw MediaError(path: destination, reason: "cannot create the file to extract '\(member)' into")
    }
    defer { try? handle.close() }
    try consume(entry) { chunk in try handle.write(contentsOf: chunk) }
  }

  private struct Overflow: Error {}

  private func consume(_ entry: Entry, _ sink: (Data) throws -> Void) throws(MediaError) {
    let limit = entry.uncompressedSize
    var seen: UInt64 = 0
    // The CRC is checked here with zlib's crc32 (several GB/s) rather than ZIPFoundation's own.
    var crc: UInt = 0
    do {
      _ = try archive.extract(entry, bufferSize: 1 << 20, skipCRC32: true) { chunk in
        seen += UInt64(chunk.count)
        if seen > limit { throw Overflow() }
        crc = chunk.withUnsafeBytes { raw in
          cpng_crc32(crc, raw.bindMemory(to: UInt8.self).baseAddress, UInt32(raw.count))
        }
        try sink(chunk)
      }
    } catch is Overflow {
      throw MediaError(
        path: path, reason: "ZIP entry '\(entry.path)' inflates past its declared \(limit) bytes; refusing it")
    } catch {
      throw MediaError(path: path, reason: "ZIP entry '\(entry.path)' cannot be read (\(error))")
    }
    guard seen == limit else {
      throw MediaError(
        path: path, reason: "ZIP entry '\(entry.path)' gave \(seen) bytes but declares \(limit)")
    }
    guard UInt32(crc) == entry.checksum else {
      throw MediaError(path: path, reason: "ZIP entry '\(entry.path)' fails its CRC-32 check (corrupt archive)")
    }
  }
}

@available(*, unavailable)
extension SafeZip: Sendable {}
