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

/// Folders mattegate writes into, created with errors in words rather than Foundation's.
public enum OutputFolder {
  /// Creates `path` and any missing parents.
  ///
  /// - Throws: `MediaError` naming the path: it (or a parent) exists and is not a folder, or the
  ///   system refused (permission, space), in one sentence.
  public static func create(_ path: String) throws(MediaError) {
    var prefix = path.hasPrefix("/") ? "/" : ""
    for part in path.split(separator: "/") {
      prefix += (prefix.isEmpty || prefix == "/" ? "" : "/") + part
      var isDir: ObjCBool = false
      if FileManager.default.fileExists(atPath: prefix, isDirectory: &isDir), !isDir.boolValue {
        throw MediaError(path: path, reason: "cannot create the folder: \(prefix) exists and is not a folder")
      }
    }
    do {
      try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
      throw MediaError(path: path, reason: "cannot create the folder: \(ErrorText.plain(error))")
    }
  }
}

/// Foundation's errors as the sentence a user should read (its POSIX reason), not the
/// `NSCocoaErrorDomain Code=…` dump.
public enum ErrorText {
  public static func plain(_ error: any Error) -> String {
    if let cocoa = error as? CocoaError {
      let path = cocoa.filePath.map { "\($0): " } ?? ""
      if let underlying = cocoa.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
        return path + String(cString: strerror(Int32(underlying.code))).lowercased()
      }
      switch cocoa.code {
      case .fileNoSuchFile, .fileReadNoSuchFile: return path + "no such file or folder"
      case .fileWriteNoPermission, .fileReadNoPermission: return path + "permission denied"
      case .fileWriteOutOfSpace: return path + "no space left on the device"
      case .fileWriteFileExists: return path + "already exists"
      case .fileReadInvalidFileName, .fileWriteInvalidFileName: return path + "invalid file name"
      default: return path + "file operation failed (Foundation error \(cocoa.code.rawValue))"
      }
    }
    if let posix = error as? POSIXError { return String(cString: strerror(posix.code.rawValue)).lowercased() }
    return "\(error)"
  }

  /// Whether `error` is one of Foundation's own (whose description is not meant for users).
  public static func isFoundation(_ error: any Error) -> Bool {
    error is CocoaError || error is POSIXError
  }
}
