import Foundation
import MediaIO
import TestSupport
import Testing

/// Whole-member reads (`SafeZip.read(_:into:)`, libdeflate): the same bytes as the archive was
/// given, and the same refusals as the streamed path for an archive that lies.
@Suite struct SafeZipReadTests {
  /// Bytes that deflate well but not trivially: a slow ramp with a little noise.
  static func content(_ count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    return (0..<count).map { i in
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return UInt8(truncatingIfNeeded: i / 64) &+ UInt8(state >> 62)
    }
  }

  /// A ZIP written by `ZipWriter` (deflate) holding `members`, as bytes.
  static func written(_ members: [(String, [UInt8])], in folder: String) throws -> [UInt8] {
    let path = folder + "/w.zip"
    let writer = try ZipWriter(path: path)
    for (name, bytes) in members { try writer.add(name, data: Data(bytes)) }
    try writer.finish()
    return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
  }

  /// Offsets of every `signature` (little-endian) in `bytes`.
  static func offsets(of signature: UInt32, in bytes: [UInt8]) -> [Int] {
    let s = (0..<4).map { UInt8((signature >> (8 * $0)) & 0xFF) }
    return (0..<max(bytes.count - 3, 0)).filter { i in (0..<4).allSatisfy { bytes[i + $0] == s[$0] } }
  }

  static func put32(_ value: UInt32, at offset: Int, in bytes: inout [UInt8]) {
    for k in 0..<4 { bytes[offset + k] = UInt8((value >> (8 * k)) & 0xFF) }
  }

  @Test func wholeMemberReadsGiveTheBytesWritten() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let big = Self.content(300_000, seed: 1)
    let small = Self.content(1_000, seed: 2)
    let bytes = try Self.written([("big.bin", big), ("empty.bin", []), ("small.bin", small)], in: folder)
    let path = folder + "/a.zip"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let zip = try SafeZip(path: path)
    #expect(zip.members.map(\.path) == ["big.bin", "empty.bin", "small.bin"])
    // One buffer kept across members of different sizes, as the motion fields use it.
    var buffer: [UInt8] = []
    for (name, expected) in [("big.bin", big), ("small.bin", small), ("empty.bin", []), ("big.bin", big)] {
      try zip.read(name, into: &buffer)
      #expect(buffer == expected, "\(name)")
      #expect([UInt8](try zip.read(name)) == expected, "\(name)")
    }
    // Stored members (method 0), from a crafted archive.
    let storedPath = folder + "/stored.zip"
    try craftZip([("s.bin", small, nil, 0)]).write(to: URL(fileURLWithPath: storedPath))
    try SafeZip(path: storedPath).read("s.bin", into: &buffer)
    #expect(buffer == small)
  }

  /// A member whose central-directory record is not matched to ZIPFoundation's entry (here a
  /// name in code page 437, which ZIPFoundation decodes and the directory walk reads as UTF-8)
  /// is streamed through ZIPFoundation instead, with the same bytes.
  @Test func aMemberTheDirectoryWalkCannotMatchIsStreamed() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let small = Self.content(1_000, seed: 4)
    var bytes = [UInt8](craftZip([("a.bin", small, nil, 0)]))
    let local = try #require(Self.offsets(of: 0x0403_4B50, in: bytes).first)
    let central = try #require(Self.offsets(of: 0x0201_4B50, in: bytes).first)
    // Byte 0x80 is "Ç" in code page 437 (the name flag's UTF-8 bit is clear), not valid UTF-8.
    bytes[local + 30] = 0x80
    bytes[central + 46] = 0x80
    let path = folder + "/cp437.zip"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let zip = try SafeZip(path: path)
    let name = try #require(zip.members.first?.path)
    #expect(name == "Ç.bin")
    var buffer: [UInt8] = []
    try zip.read(name, into: &buffer)
    #expect(buffer == small)
    #expect([UInt8](try zip.read(name)) == small)
  }

  /// A member whose recorded CRC-32 is wrong (its bytes intact) is refused with the check, and
  /// read as it is without it (scoring skips the check only where a manifest's sha256 already
  /// pinned the whole archive).
  @Test func theCRCCheckCanBeLeftToAStrongerHash() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let data = Self.content(50_000, seed: 6)
    var bytes = try Self.written([("m.npy", data)], in: folder)
    let local = try #require(Self.offsets(of: 0x0403_4B50, in: bytes).first)
    let central = try #require(Self.offsets(of: 0x0201_4B50, in: bytes).first)
    for at in [local + 14, central + 16] { bytes[at] ^= 0x01 }
    let path = folder + "/wrong-crc.zip"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    let zip = try SafeZip(path: path)
    var buffer: [UInt8] = []
    #expect(throws: MediaError.self) { try zip.read("m.npy", into: &buffer) }
    do {
      try zip.read("m.npy", into: &buffer)
    } catch {
      #expect(error.reason.contains("CRC-32"), "\(error.reason)")
    }
    try zip.read("m.npy", into: &buffer, checkCRC: false)
    #expect(buffer == data)
  }

  @Test func aMemberThatInflatesToAnotherSizeOrIsDamagedIsRefused() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let data = Self.content(50_000, seed: 3)
    let original = try Self.written([("m.npy", data)], in: folder)
    let local = try #require(Self.offsets(of: 0x0403_4B50, in: original).first)
    let central = try #require(Self.offsets(of: 0x0201_4B50, in: original).first)
    func attempt(_ name: String, _ bytes: [UInt8]) throws -> String {
      let path = folder + "/" + name
      try Data(bytes).write(to: URL(fileURLWithPath: path))
      var buffer: [UInt8] = []
      do {
        try SafeZip(path: path).read("m.npy", into: &buffer)
        return "read \(buffer.count) bytes"
      } catch {
        #expect(error.path == path)
        return error.reason
      }
    }
    // The uncompressed size declared one byte short, then one byte long, in both headers.
    for (name, declared, expected) in [
      ("short.zip", 49_999, "inflates past its declared 49999 bytes"),
      ("long.zip", 50_001, "gave 50000 bytes but declares 50001"),
    ] {
      var lying = original
      Self.put32(UInt32(declared), at: local + 22, in: &lying)
      Self.put32(UInt32(declared), at: central + 24, in: &lying)
      let reason = try attempt(name, lying)
      #expect(reason.contains(expected), "\(name): \(reason)")
    }
    // A damaged byte in the middle of the deflate data: corrupt data or a failing CRC, never
    // the damaged bytes as content.
    var damaged = original
    damaged[local + 30 + 5 + 200] ^= 0x5A
    let reason = try attempt("damaged.zip", damaged)
    #expect(reason.hasPrefix("ZIP entry 'm.npy'"), "\(reason)")
    // The archive cut inside the member's data (the central directory kept at the end).
    let cut = Array(original[..<(local + 30 + 5 + 100)]) + Array(original[central...])
    var moved = cut
    let shift = original.count - cut.count
    let eocd = try #require(Self.offsets(of: 0x0605_4B50, in: moved).last)
    Self.put32(UInt32(central - shift), at: eocd + 16, in: &moved)
    let truncated = try attempt("cut.zip", moved)
    #expect(truncated.contains("ZIP"), "\(truncated)")
    #expect(!truncated.hasPrefix("read"), "\(truncated)")
  }
}
