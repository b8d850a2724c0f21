import Foundation

/// Bounds on what a user or a service can make mattegate allocate or read. Every limit is
/// checked before the allocation it guards, with an error that names the limit.
public enum InputLimits {
  /// Largest width or height of a frame, in pixels.
  public static let maxSide = 16384
  /// Largest frame area, in pixels (8192×8192; 8K UHD is 7680×4320): one 16-bit RGB frame of
  /// this size is 384 MiB, and a run holds a few per clip at once.
  public static let maxPixels = 1 << 26
  /// Most frames a synthetic clip may have (an hour at 30 fps is 108 000).
  public static let maxFrames = 200_000
  /// Most clips in one clip set.
  public static let maxClips = 10_000
  /// Largest YAML file (manifest, arm config, gate) read, in bytes.
  public static let maxTextFileBytes = 8 << 20
  /// Largest single PNG file read, in bytes.
  public static let maxPNGBytes = 1 << 30

  /// Why a frame size is refused, or `nil` when it is within the limits.
  public static func problem(width: Int, height: Int) -> String? {
    if width < 1 || height < 1 { return "frame size \(width)x\(height) is empty" }
    if width > maxSide || height > maxSide {
      return "frame size \(width)x\(height) is beyond the \(maxSide)-pixel limit per side"
    }
    if width * height > maxPixels {
      return "frame size \(width)x\(height) has \(width * height) pixels, beyond the limit of \(maxPixels) (8192x8192)"
    }
    return nil
  }
}

/// Checks a path before it is opened for reading: special files (FIFOs, sockets, devices) are
/// refused, since reading one can block forever or never end.
public enum InputFile {
  public enum Kind: Sendable, Equatable {
    case file(size: UInt64)
    case folder
  }

  /// What `path` names, following symbolic links.
  ///
  /// - Throws: `MediaError` when it does not exist, is a special file, or is a folder where
  ///   `allowFolder` is false.
  @discardableResult
  public static func check(_ path: String, allowFolder: Bool = false) throws(MediaError) -> Kind {
    var st = stat()
    guard stat(path, &st) == 0 else {
      let code = errno
      if code == ENOENT || code == ENOTDIR { throw MediaError(path: path, reason: "no such file or folder") }
      if code == ENAMETOOLONG { throw MediaError(path: path, reason: "the path is too long") }
      throw MediaError(path: path, reason: "cannot be read (\(String(cString: strerror(code))))")
    }
    switch st.st_mode & S_IFMT {
    case S_IFREG:
      return .file(size: UInt64(st.st_size))
    case S_IFDIR:
      guard allowFolder else { throw MediaError(path: path, reason: "is a folder, not a file") }
      return .folder
    case S_IFIFO:
      throw MediaError(
        path: path, reason: "is a FIFO (named pipe), not a regular file; mattegate reads only regular files")
    case S_IFSOCK:
      throw MediaError(path: path, reason: "is a socket, not a regular file; mattegate reads only regular files")
    case S_IFCHR, S_IFBLK:
      throw MediaError(path: path, reason: "is a device, not a regular file; mattegate reads only regular files")
    default:
      throw MediaError(path: path, reason: "is not a regular file")
    }
  }

  /// Checks that `path` is a regular file of at most `maxBytes` and returns its size.
  public static func regularFile(_ path: String, maxBytes: Int) throws(MediaError) -> Int {
    guard case .file(let size) = try check(path) else {
      throw MediaError(path: path, reason: "is a folder, not a file")
    }
    if size > UInt64(maxBytes) {
      throw MediaError(
        path: path, reason: "is \(size) bytes, more than the \(maxBytes)-byte limit for this kind of file")
    }
    return Int(size)
  }
}
