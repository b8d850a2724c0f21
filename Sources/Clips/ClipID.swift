public import MediaIO

/// The rule every clip id follows, checked wherever an id enters (`clipset verify`, `clipset add`,
/// `synth`, `run`): ids name folders and files, so they must never be able to leave them.
public enum ClipID {
  public static let maxLength = 64
  public static let rule =
    "ids use ASCII letters, digits, '-', '_' and '.', do not start with '.', and have at most \(maxLength) characters"

  /// Why `id` is not a valid clip id, or `nil`.
  public static func problem(_ id: String) -> String? {
    if id.isEmpty { return "is empty (\(rule))" }
    if id.utf8.count > maxLength {
      return "'\(id.prefix(24))…' is \(id.utf8.count) characters long (\(rule))"
    }
    if id.hasPrefix(".") { return "'\(id)' starts with '.' (\(rule))" }
    let allowed = id.utf8.allSatisfy { c in
      (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F
        || c == 0x2E
    }
    if !allowed { return "'\(id)' has a character outside the allowed set (\(rule))" }
    return nil
  }

  /// `folder/id`, after checking that `id` is valid and the path stays inside `folder`.
  public static func path(_ id: String, in folder: String) throws(MediaError) -> String {
    if let problem = problem(id) { throw MediaError(path: folder, reason: "clip id \(problem)") }
    return try SafePath.child(id, of: folder)
  }
}
