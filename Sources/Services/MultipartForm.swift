public import Foundation
import MultipartKit
import NIOCore
import NIOHTTP1

/// `multipart/form-data` on both sides of the wire, through MultipartKit's parser and
/// serializer: the providers' uploads and the reference server's upload routes.
public enum MultipartForm {
  /// One part: its form name, file name and content type, and its bytes.
  public struct Part: Sendable {
    public var name: String
    public var filename: String?
    public var contentType: String?
    public var body: Data

    public init(name: String, filename: String? = nil, contentType: String? = nil, body: Data) {
      self.name = name
      self.filename = filename
      self.contentType = contentType
      self.body = body
    }
  }

  /// The boundary of a `Content-Type: multipart/form-data; boundary=…` header.
  public static func boundary(contentType: String) -> String? {
    let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
    guard let kind = pieces.first, kind.lowercased() == "multipart/form-data" else { return nil }
    for piece in pieces.dropFirst() {
      let kv = piece.split(separator: "=", maxSplits: 1).map(String.init)
      guard kv.count == 2, kv[0].lowercased() == "boundary" else { continue }
      var value = kv[1]
      if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
      return value.isEmpty || value.count > 200 ? nil : value
    }
    return nil
  }

  /// The parts of `body`, or a sentence saying what is malformed.
  public static func parse(_ body: Data, boundary: String) -> Result<[Part], FormError> {
    // MultipartKit 4.7.1 indexes a 128-entry table with each header-name byte, so a byte of
    // 0x80 or more in a part's header name traps (found by Fuzz/run FuzzMultipart). Such a body
    // is malformed anyway (header names are ASCII tokens): it is refused before the parser sees it.
    guard headerNamesAreASCII(body, boundary: boundary) else {
      return .failure(FormError(message: "a part's header name holds a byte that is not ASCII"))
    }
    let parser = MultipartParser(boundary: boundary)
    var parts: [Part] = []
    var headers = HTTPHeaders()
    var current = Data()
    var completed = false
    parser.onHeader = { name, value in headers.add(name: name, value: value) }
    parser.onBody = { buffer in current.append(contentsOf: buffer.readableBytesView) }
    parser.onPartComplete = {
      let part = MultipartPart(headers: headers, body: ByteBuffer())
      parts.append(
        Part(
          name: part.name ?? "", filename: Self.parameter(headers, "filename"),
          contentType: headers.first(name: "Content-Type"), body: current))
      headers = HTTPHeaders()
      current = Data()
      completed = true
    }
    do {
      try parser.execute(ByteBuffer(bytes: body))
    } catch {
      return .failure(FormError(message: "the body is not multipart/form-data with boundary '\(boundary)'"))
    }
    guard completed else { return .failure(FormError(message: "no complete part before the closing boundary")) }
    guard parts.allSatisfy({ !$0.name.isEmpty }) else {
      return .failure(FormError(message: "a part has no Content-Disposition name"))
    }
    return .success(parts)
  }

  /// Whether every header name in `body` is ASCII. From every `--boundary` (the parser can
  /// only be reading headers after one), the header lines are read as MultipartKit's parser
  /// reads them: CRLF after the delimiter, then per line a name up to `:`, a value up to CR
  /// (a bare LF belongs to the value), then LF; a CR where a name starts ends the headers.
  /// Where the parser would throw, the scan of that block stops: nothing follows there.
  static func headerNamesAreASCII(_ body: Data, boundary: String) -> Bool {
    let bytes = [UInt8](body)
    let delimiter = Array("--\(boundary)".utf8)
    let (cr, lf, colon): (UInt8, UInt8, UInt8) = (0x0D, 0x0A, 0x3A)
    var at = 0
    while at + delimiter.count <= bytes.count {
      guard bytes[at] == delimiter[0], Array(bytes[at..<(at + delimiter.count)]) == delimiter else {
        at += 1
        continue
      }
      at += delimiter.count
      var i = at
      guard i + 1 < bytes.count, bytes[i] == cr, bytes[i + 1] == lf else { continue }
      i += 2
      headers: while i < bytes.count, bytes[i] != cr {
        // The name: any byte of 0x80 or more here is what traps the parser.
        while i < bytes.count, bytes[i] != colon {
          if bytes[i] >= 0x80 { return false }
          if bytes[i] == cr || bytes[i] == lf { break headers }  // the parser throws here
          i += 1
        }
        // The value runs to CR; then LF, or the parser throws.
        while i < bytes.count, bytes[i] != cr { i += 1 }
        guard i + 1 < bytes.count, bytes[i + 1] == lf else { break headers }
        i += 2
      }
    }
    return true
  }

  /// `parts` as a body with `boundary`.
  public static func serialize(_ parts: [Part], boundary: String) throws -> Data {
    let kitParts = parts.map { part -> MultipartPart in
      var headers = HTTPHeaders()
      var disposition = "form-data; name=\"\(Self.quoted(part.name))\""
      if let filename = part.filename { disposition += "; filename=\"\(Self.quoted(filename))\"" }
      headers.add(name: "Content-Disposition", value: disposition)
      if let type = part.contentType { headers.add(name: "Content-Type", value: type) }
      return MultipartPart(headers: headers, body: part.body)
    }
    var buffer = ByteBuffer()
    try MultipartSerializer().serialize(parts: kitParts, boundary: boundary, into: &buffer)
    return Data(buffer.readableBytesView)
  }

  /// A quoted-string's content: quotes, backslashes and line breaks become `_`.
  static func quoted(_ s: String) -> String {
    String(s.map { "\"\\\r\n".contains($0) ? "_" : $0 })
  }

  /// A parameter of the Content-Disposition header (`filename`), unquoted.
  static func parameter(_ headers: HTTPHeaders, _ key: String) -> String? {
    guard let value = headers.first(name: "Content-Disposition") else { return nil }
    for piece in value.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }) {
      let kv = piece.split(separator: "=", maxSplits: 1).map(String.init)
      guard kv.count == 2, kv[0].lowercased() == key else { continue }
      var v = kv[1]
      if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
      return v
    }
    return nil
  }

  public struct FormError: Error, Sendable {
    public var message: String
  }
}
