import Foundation

/// Paths built from names that came from outside (clip ids, member names): each is checked to
/// stay inside the folder it is meant for.
public enum SafePath {
  /// `folder/name` where `name` is one path component (no '/', not '.' or '..', no NUL).
  public static func child(_ name: String, of folder: String) throws(MediaError) -> String {
    if name.isEmpty || name == "." || name == ".." || name.contains("/") || name.contains("\0") {
      throw MediaError(path: folder, reason: "'\(name)' is not a single file name inside this folder")
    }
    let joined = folder + "/" + name
    try requireInside(joined, folder: folder)
    return joined
  }

  /// Throws unless `path`, with '.' and '..' resolved, lies strictly inside `folder`.
  public static func requireInside(_ path: String, folder: String) throws(MediaError) {
    let base = URL(fileURLWithPath: folder).standardizedFileURL.path
    let target = URL(fileURLWithPath: path).standardizedFileURL.path
    let prefix = base.hasSuffix("/") ? base : base + "/"
    guard target.hasPrefix(prefix), target.count > prefix.count else {
      throw MediaError(path: path, reason: "leaves the folder \(folder)")
    }
  }
}
