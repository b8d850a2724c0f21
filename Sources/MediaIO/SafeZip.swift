internal import CDeflate
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
  /// Where each member's bytes lie, from the central directory, for reading a member in one
  /// piece (`read(_:into:)`); members missing here are streamed through ZIPFoundation.
  private let located: [String: Located]
  /// Opened on the first whole-member read; closed with the archive.
  private var descriptor: Int32 = -1
  private var decompressor: OpaquePointer?
  /// Compressed bytes of the member being read, kept from read to read.
  private var packed: [UInt8] = []

  /// A member as the central directory describes it.
  struct Located: Equatable {
    var method: Int
    var flags: Int
    var crc: UInt32
    var compressedSize: Int
    var uncompressedSize: Int
    var localHeaderOffset: Int
  }

  public init(path: String) throws(MediaError) {
    self.path = path
    try InputFile.check(path)
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
    var listed = 0
    // ZIPFoundation stops listing at the first entry it cannot represent (an encrypted one),
    // silently: the central directory is read here too, so that such an entry is named and a
    // shortened listing is never taken for the whole archive.
    let directory = try Self.centralDirectory(path)
    for entry in archive {
      listed += 1
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
    if let encrypted = directory.encrypted {
      throw MediaError(
        path: path, reason: "ZIP entry '\(encrypted)' is encrypted; mattegate reads only unencrypted archives")
    }
    guard listed == directory.count else {
      throw MediaError(
        path: path,
        reason:
          "ZIP central directory declares \(directory.count) entries but \(listed) could be read; refusing the archive")
    }
    self.members = members
    self.entries = entries
    // A member is read in one piece only where the central directory's record agrees with the
    // entry ZIPFoundation listed (sizes and CRC) and it is stored or deflated, unencrypted.
    located = directory.located.filter { name, place in
      guard let entry = entries[name], place.method == 0 || place.method == 8, place.flags & 1 == 0 else {
        return false
      }
      return UInt64(place.compressedSize) == entry.compressedSize
        && UInt64(place.uncompressedSize) == entry.uncompressedSize && place.crc == entry.checksum
    }
  }

  deinit {
    if descriptor >= 0 { close(descriptor) }
    if let decompressor { libdeflate_free_decompressor(decompressor) }
  }

  /// The entry count the end-of-central-directory record declares, and the first entry whose
  /// general-purpose flags mark it encrypted (bit 0). ZIP64 archives (count 0xFFFF) are counted
  /// by walking the directory.
  static func centralDirectory(
    _ path: String
  ) throws(MediaError) -> (count: Int, encrypted: String?, located: [String: Located]) {
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw MediaError(path: path, reason: "cannot be opened for reading")
    }
    defer { try? handle.close() }
    let size: UInt64
    do { size = try handle.seekToEnd() } catch { throw MediaError(path: path, reason: "cannot be read") }
    let tailLength = min(size, 65_557)
    let tail: [UInt8]
    do {
      try handle.seek(toOffset: size - tailLength)
      tail = [UInt8](try handle.read(upToCount: Int(tailLength)) ?? Data())
    } catch { throw MediaError(path: path, reason: "cannot be read") }
    func u16(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
    func u32(_ b: [UInt8], _ i: Int) -> Int { u16(b, i) | u16(b, i + 2) << 16 }
    guard tail.count >= 22,
      let eocd = stride(from: tail.count - 22, through: 0, by: -1).first(where: {
        tail[$0] == 0x50 && tail[$0 + 1] == 0x4B && tail[$0 + 2] == 0x05 && tail[$0 + 3] == 0x06
      })
    else {
      throw MediaError(path: path, reason: "not a readable ZIP archive (no end-of-central-directory record)")
    }
    let declared = u16(tail, eocd + 10)
    let cdSize = u32(tail, eocd + 12)
    let cdOffset = u32(tail, eocd + 16)
    // The directory itself, entry by entry, when it is a plain (non-ZIP64) one of sane size.
    guard declared != 0xFFFF, cdOffset != 0xFFFF_FFFF, cdSize <= 64 << 20, UInt64(cdOffset + cdSize) <= size else {
      return (declared, nil, [:])
    }
    let cd: [UInt8]
    do {
      try handle.seek(toOffset: UInt64(cdOffset))
      cd = [UInt8](try handle.read(upToCount: cdSize) ?? Data())
    } catch { throw MediaError(path: path, reason: "cannot be read") }
    var at = 0
    var encrypted: String?
    var located: [String: Located] = [:]
    while at + 46 <= cd.count, cd[at] == 0x50, cd[at + 1] == 0x4B, cd[at + 2] == 0x01, cd[at + 3] == 0x02 {
      let flags = u16(cd, at + 8)
      let nameLength = u16(cd, at + 28)
      let next = at + 46 + nameLength + u16(cd, at + 30) + u16(cd, at + 32)
      guard at + 46 + nameLength <= cd.count else { break }
      let name = String(decoding: cd[(at + 46)..<(at + 46 + nameLength)], as: UTF8.self)
      if flags & 1 != 0 && encrypted == nil { encrypted = name }
      let place = Located(
        method: u16(cd, at + 10), flags: flags, crc: UInt32(u32(cd, at + 16)), compressedSize: u32(cd, at + 20),
        uncompressedSize: u32(cd, at + 24), localHeaderOffset: u32(cd, at + 42))
      // ZIP64 sizes or offsets (0xFFFFFFFF here) are left to ZIPFoundation.
      if place.compressedSize != 0xFFFF_FFFF && place.uncompressedSize != 0xFFFF_FFFF
        && place.localHeaderOffset != 0xFFFF_FFFF
      {
        located[name] = place
      }
      at = next
    }
    return (declared, encrypted, located)
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
    if located[member] != nil {
      var bytes: [UInt8] = []
      try read(member, into: &bytes)
      return Data(bytes)
    }
    var data = Data()
    data.reserveCapacity(Int(entry.uncompressedSize))
    try consume(entry) { chunk in data.append(chunk) }
    return data
  }

  /// The bytes of `member` into `buffer` (resized to the member's declared size; a buffer kept
  /// from read to read is not allocated again), checked against that size and its CRC. A stored
  /// or deflated member is read and inflated in one piece with libdeflate; any other is
  /// streamed through ZIPFoundation as `read(_:)` does.
  public func read(_ member: String, into buffer: inout [UInt8], checkCRC: Bool = true) throws(MediaError) {
    guard let entry = entries[member] else {
      throw MediaError(path: path, reason: "ZIP has no entry '\(member)'")
    }
    guard let place = located[member] else {
      let data = try read(member)
      buffer = [UInt8](data)
      return
    }
    let size = place.uncompressedSize
    if buffer.count != size { buffer = [UInt8](repeating: 0, count: size) }
    if descriptor < 0 {
      descriptor = open(path, O_RDONLY | O_CLOEXEC)
      guard descriptor >= 0 else { throw MediaError(path: path, reason: "cannot be opened for reading") }
    }
    // The local header: its name and extra field lengths say where the data starts.
    var header = [UInt8](repeating: 0, count: 30)
    guard readFully(&header, count: 30, at: place.localHeaderOffset),
      header[0] == 0x50, header[1] == 0x4B, header[2] == 0x03, header[3] == 0x04
    else {
      throw MediaError(path: path, reason: "ZIP entry '\(member)' has no local header where the directory says")
    }
    let start =
      place.localHeaderOffset + 30 + (Int(header[26]) | Int(header[27]) << 8) + (Int(header[28]) | Int(header[29]) << 8)
    if packed.count < place.compressedSize { packed = [UInt8](repeating: 0, count: place.compressedSize) }
    guard readFully(&packed, count: place.compressedSize, at: start) else {
      throw MediaError(path: path, reason: "ZIP entry '\(member)' is cut short (the archive is truncated)")
    }
    if place.method == 0 {
      guard size > 0 else { return }
      buffer.withUnsafeMutableBufferPointer { out in
        packed.withUnsafeBufferPointer { out.baseAddress!.update(from: $0.baseAddress!, count: size) }
      }
    } else {
      if decompressor == nil { decompressor = libdeflate_alloc_decompressor() }
      guard let decompressor else { throw MediaError(path: path, reason: "cannot allocate a decompressor") }
      var produced = 0
      let result = packed.withUnsafeBytes { input in
        buffer.withUnsafeMutableBytes { output in
          libdeflate_deflate_decompress(
            decompressor, input.baseAddress, place.compressedSize, output.baseAddress, size, &produced)
        }
      }
      switch result {
      case LIBDEFLATE_SUCCESS:
        guard produced == size else {
          throw MediaError(path: path, reason: "ZIP entry '\(member)' gave \(produced) bytes but declares \(size)")
        }
      case LIBDEFLATE_INSUFFICIENT_SPACE:
        throw MediaError(
          path: path, reason: "ZIP entry '\(member)' inflates past its declared \(size) bytes; refusing it")
      default:
        throw MediaError(path: path, reason: "ZIP entry '\(member)' cannot be read (its deflate data is corrupt)")
      }
    }
    guard checkCRC else { return }
    let crc = buffer.withUnsafeBytes { libdeflate_crc32(0, $0.baseAddress, size) }
    guard crc == entry.checksum else {
      throw MediaError(path: path, reason: "ZIP entry '\(member)' fails its CRC-32 check (corrupt archive)")
    }
  }

  /// `count` bytes at `offset` of the archive into the start of `bytes`; false when the file
  /// ends first or cannot be read.
  private func readFully(_ bytes: inout [UInt8], count: Int, at offset: Int) -> Bool {
    var done = 0
    return bytes.withUnsafeMutableBytes { raw in
      while done < count {
        let n = pread(descriptor, raw.baseAddress! + done, count - done, off_t(offset + done))
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { return false }
        done += n
      }
      return true
    }
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
