import Foundation

/// One part of a `multipart/form-data` body.
struct MultipartPart: Sendable {
  var name: String
  var filename: String?
  var contentType: String?
  var body: Data
}

/// A small `multipart/form-data` reader (RFC 7578): enough for the upload route.
enum Multipart {
  /// The boundary of a `Content-Type: multipart/form-data; boundary=…` header.
  static func boundary(contentType: String) -> String? {
    let pieces = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
    guard let kind = pieces.first, kind.lowercased() == "multipart/form-data" else { return nil }
    for piece in pieces.dropFirst() {
      let kv = piece.split(separator: "=", maxSplits: 1).map(String.init)
      guard kv.count == 2, kv[0].lowercased() == "boundary" else { continue }
      var value = kv[1]
      if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
      return value.isEmpty ? nil : value
    }
    return nil
  }

  /// The parts of `body`, or a sentence saying what is malformed.
  static func parse(_ body: Data, boundary: String) -> Result<[MultipartPart], MultipartError> {
    let delimiter = Data("--\(boundary)".utf8)
    let crlf = Data("\r\n".utf8)
    let headerEnd = Data("\r\n\r\n".utf8)
    guard var cursor = body.range(of: delimiter)?.upperBound else {
      return .failure(MultipartError("the body has no boundary line"))
    }
    var parts: [MultipartPart] = []
    while true {
      // After a delimiter: "--" ends the body, CRLF starts a part.
      if body[cursor...].starts(with: Data("--".utf8)) { break }
      guard body[cursor...].starts(with: crlf) else { return .failure(MultipartError("a boundary line is malformed")) }
      cursor += 2
      guard let headersRange = body.range(of: headerEnd, in: cursor..<body.endIndex) else {
        return .failure(MultipartError("a part has no end of headers"))
      }
      let headerText = String(decoding: body[cursor..<headersRange.lowerBound], as: UTF8.self)
      let contentStart = headersRange.upperBound
      guard let next = body.range(of: crlf + delimiter, in: contentStart..<body.endIndex) else {
        return .failure(MultipartError("a part is not closed by a boundary"))
      }
      var name: String?
      var filename: String?
      var contentType: String?
      for line in headerText.components(separatedBy: "\r\n") {
        let kv = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard kv.count == 2 else { continue }
        switch kv[0].lowercased() {
        case "content-disposition":
          name = parameter("name", in: kv[1])
          filename = parameter("filename", in: kv[1])
        case "content-type":
          contentType = kv[1]
        default:
          break
        }
      }
      guard let name else { return .failure(MultipartError("a part has no Content-Disposition name")) }
      parts.append(
        MultipartPart(
          name: name, filename: filename, contentType: contentType,
          body: body.subdata(in: contentStart..<next.lowerBound)
        ))
      cursor = next.upperBound
    }
    return .success(parts)
  }

  private static func parameter(_ key: String, in header: String) -> String? {
    for piece in header.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }) {
      let kv = piece.split(separator: "=", maxSplits: 1).map(String.init)
      guard kv.count == 2, kv[0].lowercased() == key else { continue }
      var value = kv[1]
      if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
      return value
    }
    return nil
  }
}

struct MultipartError: Error, Sendable {
  var message: String
  init(_ message: String) { self.message = message }
}
