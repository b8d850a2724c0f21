import Foundation
import MediaIO
import Yams

/// A YAML mapping read with line numbers, for strict validation of user files: unknown keys and
/// wrong types are errors naming the file, the line, the clip and the field.
public struct YAMLMap {
  public let file: String
  public let clip: String?
  let mapping: Node.Mapping
  let line: Int?

  /// Reads and parses `path`, whose root must be a mapping.
  public static func load(_ path: String) throws(ConfigError) -> YAMLMap {
    do {
      _ = try InputFile.regularFile(path, maxBytes: InputLimits.maxTextFileBytes)
    } catch {
      throw ConfigError(file: path, message: error.reason == "no such file or folder" ? "file not found" : error.reason)
    }
    guard let data = FileManager.default.contents(atPath: path),
      let text = String(data: data, encoding: .utf8)
    else {
      throw ConfigError(file: path, message: "cannot be read as UTF-8 text")
    }
    return try parse(text, file: path)
  }

  /// Parses YAML text; `file` names it in errors.
  public static func parse(_ text: String, file: String) throws(ConfigError) -> YAMLMap {
    let node: Node?
    do {
      node = try Yams.compose(yaml: text)
    } catch let error as YamlError {
      throw ConfigError(file: file, line: line(of: error), message: "not valid YAML: \(problem(of: error))")
    } catch {
      throw ConfigError(file: file, message: "not valid YAML: \(error)")
    }
    guard let node, let mapping = node.mapping else {
      throw ConfigError(file: file, line: node?.mark?.line, message: "the document must be a mapping of keys to values")
    }
    return YAMLMap(file: file, clip: nil, mapping: mapping, line: node.mark?.line)
  }

  private static func line(of error: YamlError) -> Int? {
    switch error {
    case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
      return mark.line
    default:
      return nil
    }
  }

  private static func problem(of error: YamlError) -> String {
    switch error {
    case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
      return problem
    default:
      return "\(error)"
    }
  }

  /// This map, with errors naming `clip`.
  public func naming(clip: String?) -> YAMLMap {
    YAMLMap(file: file, clip: clip, mapping: mapping, line: line)
  }

  public var keys: [String] { mapping.compactMap { $0.key.string } }

  func node(_ key: String) -> Node? { mapping[key] }

  /// Fails on the first key not in `allowed`, naming it and its line.
  public func rejectUnknownKeys(_ allowed: Set<String>) throws(ConfigError) {
    for (k, _) in mapping {
      guard let name = k.string else {
        throw error(line: k.mark?.line, field: nil, "keys must be strings")
      }
      if !allowed.contains(name) {
        let known = allowed.sorted().joined(separator: ", ")
        throw error(line: k.mark?.line, field: name, "unknown key (known keys: \(known))")
      }
    }
  }

  public func error(line: Int?, field: String?, _ message: String) -> ConfigError {
    ConfigError(file: file, line: line ?? self.line, clip: clip, field: field, message: message)
  }

  /// The line of `key`'s value, or of the mapping.
  public func line(of key: String) -> Int? { node(key)?.mark?.line ?? line }

  public func string(_ key: String) throws(ConfigError) -> String? {
    guard let n = node(key) else { return nil }
    guard let s = n.scalar?.string else { throw error(line: n.mark?.line, field: key, "must be a string") }
    return s
  }

  public func requiredString(_ key: String) throws(ConfigError) -> String {
    guard let s = try string(key) else { throw error(line: nil, field: key, "is required") }
    guard !s.isEmpty else { throw error(line: line(of: key), field: key, "must not be empty") }
    return s
  }

  public func int(_ key: String) throws(ConfigError) -> Int? {
    guard let n = node(key) else { return nil }
    guard let v = n.int else { throw error(line: n.mark?.line, field: key, "must be an integer") }
    return v
  }

  public func double(_ key: String) throws(ConfigError) -> Double? {
    guard let n = node(key) else { return nil }
    guard let v = n.float ?? n.int.map(Double.init) else {
      throw error(line: n.mark?.line, field: key, "must be a number")
    }
    return v
  }

  public func bool(_ key: String) throws(ConfigError) -> Bool? {
    guard let n = node(key) else { return nil }
    guard let v = n.bool else { throw error(line: n.mark?.line, field: key, "must be true or false") }
    return v
  }

  public func stringList(_ key: String) throws(ConfigError) -> [String]? {
    guard let n = node(key) else { return nil }
    guard let seq = n.sequence else { throw error(line: n.mark?.line, field: key, "must be a list") }
    var out: [String] = []
    for item in seq {
      guard let s = item.scalar?.string else {
        throw error(line: item.mark?.line, field: key, "items must be strings")
      }
      out.append(s)
    }
    return out
  }

  public func map(_ key: String) throws(ConfigError) -> YAMLMap? {
    guard let n = node(key) else { return nil }
    guard let m = n.mapping else { throw error(line: n.mark?.line, field: key, "must be a mapping") }
    return YAMLMap(file: file, clip: clip, mapping: m, line: n.mark?.line)
  }

  public func mapList(_ key: String) throws(ConfigError) -> [YAMLMap]? {
    guard let n = node(key) else { return nil }
    guard let seq = n.sequence else { throw error(line: n.mark?.line, field: key, "must be a list") }
    var out: [YAMLMap] = []
    for item in seq {
      guard let m = item.mapping else {
        throw error(line: item.mark?.line, field: key, "items must be mappings")
      }
      out.append(YAMLMap(file: file, clip: clip, mapping: m, line: item.mark?.line))
    }
    return out
  }
}
