import Foundation
import FuzzSupport
import Services

/// The reference server's upload bodies: `multipart/form-data` from any bytes, through
/// MultipartKit's parser. The first line is the Content-Type header (its boundary), the rest
/// the body. Every problem must be a `FormError`; and whatever parses must serialize and parse
/// back to the same parts.
@_cdecl("FuzzMultipart_main")
public func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv, fuzzOne)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ input: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  guard let data = input else { return 0 }
  let bytes = Data(bytes: data, count: count)
  let newline = bytes.firstIndex(of: 0x0A) ?? bytes.endIndex
  let header = String(decoding: bytes[bytes.startIndex..<newline], as: UTF8.self)
  let body = newline < bytes.endIndex ? bytes[(newline + 1)...] : Data()
  guard let boundary = MultipartForm.boundary(contentType: header) else { return 0 }
  guard case .success(let parts) = MultipartForm.parse(Data(body), boundary: boundary) else { return 0 }
  // Round trip: parts whose names and file names survive quoting come back the same.
  let clean = parts.filter { part in
    !part.name.contains(where: { "\"\\\r\n;=".contains($0) })
      && !(part.filename ?? "").contains(where: { "\"\\\r\n;=".contains($0) })
      && !(part.contentType ?? "").contains(where: { "\r\n".contains($0) })
  }
  guard !clean.isEmpty, let again = try? MultipartForm.serialize(clean, boundary: "fuzz-roundtrip-boundary") else {
    return 0
  }
  guard case .success(let back) = MultipartForm.parse(again, boundary: "fuzz-roundtrip-boundary") else {
    fatalError("serialized parts did not parse back")
  }
  guard back.count == clean.count else { fatalError("round trip changed the number of parts") }
  for (a, b) in zip(clean, back) where a.name != b.name || a.body != b.body {
    fatalError("round trip changed part '\(a.name)'")
  }
  return 0
}
