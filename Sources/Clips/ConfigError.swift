/// A problem with a file the user wrote (a clip set manifest, a config, a gate). Its description
/// names the file, the line where YAML gives one, the clip and the field.
public struct ConfigError: Error, Sendable, CustomStringConvertible, Equatable {
  public var file: String
  public var line: Int?
  public var clip: String?
  public var field: String?
  public var message: String

  public init(file: String, line: Int? = nil, clip: String? = nil, field: String? = nil, message: String) {
    self.file = file
    self.line = line
    self.clip = clip
    self.field = field
    self.message = message
  }

  public var description: String {
    var s = file
    if let line { s += ":\(line)" }
    s += ":"
    if let clip { s += " clip '\(clip)'," }
    if let field { s += " field '\(field)':" }
    return s + " " + message
  }
}
