import APIServer
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import Services

/// Multipart bodies through MultipartKit: what parses, what is refused, and the body the fuzzer
/// found that traps MultipartKit 4.7.1's parser (a non-ASCII byte in a part's header name).
@Suite struct MultipartFormTests {
  static func body(_ headerName: [UInt8]) -> Data {
    var d = Data("--b0\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nsource_video\r\n--b0\r\n".utf8)
    d.append(contentsOf: headerName)
    d.append(
      Data(
        ": form-data; name=\"file\"; filename=\"s.mp4\"\r\nContent-Type: video/mp4\r\n\r\n\u{1}\u{2}bytes\r\n--b0--\r\n"
          .utf8))
    return d
  }

  @Test func partsParseAndRoundTrip() throws {
    let parts = try MultipartForm.parse(Self.body(Array("Content-Disposition".utf8)), boundary: "b0").get()
    #expect(parts.map(\.name) == ["purpose", "file"])
    #expect(parts[1].filename == "s.mp4" && parts[1].contentType == "video/mp4")
    #expect(parts[1].body == Data([1, 2] + Array("bytes".utf8)))
    let again = try MultipartForm.parse(try MultipartForm.serialize(parts, boundary: "zz"), boundary: "zz").get()
    #expect(again.map(\.name) == parts.map(\.name) && again.map(\.body) == parts.map(\.body))
    // A non-ASCII byte in a header value (a UTF-8 file name) is fine.
    let utf8 = Data(
      "--b0\r\nContent-Disposition: form-data; name=\"file\"; filename=\"é.mp4\"\r\n\r\nx\r\n--b0--\r\n".utf8)
    #expect(try MultipartForm.parse(utf8, boundary: "b0").get().first?.filename == "é.mp4")
  }

  /// `Conten\u{88}-Disposition`: refused with a sentence, no trap.
  @Test func aNonASCIIHeaderNameIsRefusedNotATrap() {
    let crash = Self.body(Array("Conten".utf8) + [0x88] + Array("-Disposition".utf8))
    guard case .failure(let e) = MultipartForm.parse(crash, boundary: "b0") else {
      Issue.record("parsed a body with a non-ASCII header name")
      return
    }
    #expect(e.message == "a part's header name holds a byte that is not ASCII")
    #expect(!MultipartForm.headerNamesAreASCII(crash, boundary: "b0"))
    #expect(MultipartForm.headerNamesAreASCII(Self.body(Array("Content-Disposition".utf8)), boundary: "b0"))
    // The fuzzer's second finding: a bare LF inside a header value, so the next line's name
    // (`source_video\u{EA}`) starts after the value's CRLF, not after the LF.
    let second = Data(
      base64Encoded:
        "LS1iMA0KQ29udGVudC1EaXNwb3NpdGlvbjogZm9ybS1kYXRhOyBuYW1lPSJwi42PkIya3e4KDQpzb3VyY2VfdmlkZW/qCi1vbjogZm9ybS1kYXRhOyBuYW1lPSJwdXJwb3NlIg0KDQpzb3VyY2VlX2RpdupvCi0tYjANCkNvbnRlbnQtRGlzcG9zaXRpbwQAAAAtVHlwZTogdmlkZW8vbXA0DQoNAAAAAAAAADYNCi0tYjAtLQ0K"
    )!
    #expect(!MultipartForm.headerNamesAreASCII(second, boundary: "b0"))
    if case .success = MultipartForm.parse(second, boundary: "b0") { Issue.record("parsed the second finding") }
  }

  /// The same body sent to the reference server: a 400, and the server goes on serving.
  @Test func theServerRefusesItAndStaysUp() async throws {
    let server = try await LiveServer.start()
    defer { server.stop() }
    var request = HTTPClientRequest(url: server.base + "/v1/uploads")
    request.method = .POST
    request.headers.add(name: "X-Api-Key", value: LiveServer.apiKey)
    request.headers.add(name: "Content-Type", value: "multipart/form-data; boundary=b0")
    request.body = .bytes(ByteBuffer(bytes: Self.body(Array("Conten".utf8) + [0x88] + Array("-Disposition".utf8))))
    let response = try await HTTPClient.deadlineOnly.execute(request, timeout: .seconds(600))
    let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
    #expect(response.status.code == 400 && text.contains("not ASCII"), "\(text)")
    #expect(try await server.send(.GET, "/health").0 == 200)
  }
}
