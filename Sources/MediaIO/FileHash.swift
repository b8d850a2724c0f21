internal import CFFmpeg
import Foundation

/// SHA-256 of files and byte buffers, computed with libavutil.
public enum FileHash {
  /// The lowercase hex SHA-256 of the file at `path`.
  ///
  /// - Throws: `MediaError` naming the file when it cannot be read.
  public static func sha256(ofFile path: String) throws -> String {
    try InputFile.check(path)
    guard let handle = FileHandle(forReadingAtPath: path) else {
      throw MediaError(path: path, reason: "cannot be opened for reading")
    }
    defer { try? handle.close() }
    let hasher = SHA256Context()
    while true {
      let chunk: Data?
      do { chunk = try handle.read(upToCount: 1 << 20) } catch {
        throw MediaError(path: path, reason: "read failed: \(error.localizedDescription)")
      }
      guard let chunk, !chunk.isEmpty else { break }
      chunk.withUnsafeBytes { hasher.update($0) }
    }
    return hasher.finalHex()
  }

  /// The lowercase hex SHA-256 of `bytes`.
  public static func sha256(of bytes: some Sequence<UInt8>) -> String {
    let hasher = SHA256Context()
    let array = Array(bytes)
    array.withUnsafeBytes { hasher.update($0) }
    return hasher.finalHex()
  }
}

extension FileHash {
  /// The lowercase hex HMAC-SHA256 (RFC 2104) of `message` under `key`.
  public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> String {
    guard let ctx = av_hmac_alloc(AV_HMAC_SHA256) else { fatalError("av_hmac_alloc: out of memory") }
    defer { av_hmac_free(ctx) }
    var digest = [UInt8](repeating: 0, count: 32)
    let written = key.withUnsafeBufferPointer { k in
      message.withUnsafeBufferPointer { m in
        av_hmac_calc(
          ctx, m.baseAddress, UInt32(m.count), k.baseAddress, UInt32(k.count), &digest, UInt32(digest.count))
      }
    }
    precondition(written == 32, "av_hmac_calc wrote \(written) bytes")
    return digest.map { String(format: "%02x", $0) }.joined()
  }
}

/// Owns one `AVSHA` context. Not thread-safe; used within one call only.
private final class SHA256Context {
  let context: OpaquePointer

  init() {
    guard let ctx = av_sha_alloc() else { fatalError("av_sha_alloc: out of memory") }
    context = ctx
    av_sha_init(context, 256)
  }

  deinit { av_free(UnsafeMutableRawPointer(context)) }

  func update(_ buffer: UnsafeRawBufferPointer) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    av_sha_update(context, base.assumingMemoryBound(to: UInt8.self), buffer.count)
  }

  func finalHex() -> String {
    var digest = [UInt8](repeating: 0, count: 32)
    av_sha_final(context, &digest)
    return digest.map { byte in
      let hex = String(byte, radix: 16)
      return byte < 16 ? "0" + hex : hex
    }.joined()
  }
}
