public import Foundation

/// A ZIP written byte by byte, so that its entries can lie (names, sizes) the way a hostile or
/// broken archive does. Entries are stored (method 0) unless `method` says 8 (deflate).
public func craftZip(_ entries: [(name: String, data: [UInt8], declared: UInt32?, method: UInt16)]) -> Data {
  func crc32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
      c ^= UInt32(b)
      for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
    }
    return ~c
  }
  var out: [UInt8] = []
  var central: [UInt8] = []
  func le16(_ v: UInt16, _ a: inout [UInt8]) { a += [UInt8(v & 0xFF), UInt8(v >> 8)] }
  func le32(_ v: UInt32, _ a: inout [UInt8]) { for k in 0..<4 { a.append(UInt8((v >> (8 * k)) & 0xFF)) } }
  for e in entries {
    let name = Array(e.name.utf8)
    let crc = crc32(e.data)
    let offset = UInt32(out.count)
    let declared = e.declared ?? UInt32(e.data.count)
    // The fields both headers share, from "version needed" to the name's length.
    func shared(_ a: inout [UInt8]) {
      le16(20, &a)
      le16(0, &a)
      le16(e.method, &a)
      le16(0, &a)
      le16(0x21, &a)
      le32(crc, &a)
      le32(UInt32(e.data.count), &a)
      le32(declared, &a)
      le16(UInt16(name.count), &a)
    }
    le32(0x0403_4B50, &out)
    shared(&out)
    le16(0, &out)
    out += name + e.data
    le32(0x0201_4B50, &central)
    le16(20, &central)
    shared(&central)
    for _ in 0..<4 { le16(0, &central) }
    le32(0o100644 << 16, &central)
    le32(offset, &central)
    central += name
  }
  let cdOffset = UInt32(out.count)
  out += central
  le32(0x0605_4B50, &out)
  le16(0, &out)
  le16(0, &out)
  le16(UInt16(entries.count), &out)
  le16(UInt16(entries.count), &out)
  le32(UInt32(central.count), &out)
  le32(cdOffset, &out)
  le16(0, &out)
  return Data(out)
}
