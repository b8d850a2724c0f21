import Foundation

/// An HTML page's element structure: one line per element (indentation by depth, the tag, then
/// #id with digits as N and .classes), without text or numbers. Golden files and report
/// comparisons use it.
public enum HTMLStructure {
  static let void: Set<String> = ["meta", "img", "input", "br", "link", "hr"]

  /// One line per element: indentation by depth, the tag, then #id and .classes. Throws on an
  /// end tag that closes anything but the innermost open element, or on an element left open.
  public static func lines(_ html: String) throws -> [String] {
    var lines: [String] = []
    var open: [String] = []
    var rest = Substring(html)
    while let lt = rest.firstIndex(of: "<") {
      rest = rest[lt...]
      guard let gt = rest.firstIndex(of: ">") else { throw Problem("a tag never ends") }
      let tag = rest[rest.index(after: lt)..<gt]
      rest = rest[rest.index(after: gt)...]
      if tag.hasPrefix("!") { continue }
      if tag.hasPrefix("/") {
        let name = String(tag.dropFirst()).lowercased()
        guard open.last == name else { throw Problem("</\(name)> closes <\(open.last ?? "nothing")>") }
        open.removeLast()
        continue
      }
      let selfClosing = tag.hasSuffix("/")
      let body = selfClosing ? tag.dropLast() : tag
      let name = String(body.prefix { !$0.isWhitespace }).lowercased()
      var line = String(repeating: "  ", count: open.count) + name
      if let id = attribute("id", in: body) {
        line += " #" + id.replacingOccurrences(of: #"\d+"#, with: "N", options: .regularExpression)
      }
      if let cls = attribute("class", in: body) { line += cls.split(separator: " ").map { "." + $0 }.joined() }
      lines.append(line)
      if name == "script" || name == "style" {
        // Their content is code, not markup.
        guard let end = rest.range(of: "</\(name)>") else { throw Problem("<\(name)> never ends") }
        rest = rest[end.upperBound...]
        continue
      }
      if !selfClosing && !void.contains(name) { open.append(name) }
    }
    guard open.isEmpty else { throw Problem("left open: \(open.joined(separator: " > "))") }
    return lines
  }

  static func attribute(_ name: String, in tag: Substring) -> String? {
    guard let r = tag.range(of: " \(name)=\"") else { return nil }
    let value = tag[r.upperBound...].prefix { $0 != "\"" }
    return String(value)
  }

  public struct Problem: Error, CustomStringConvertible {
    public var description: String
    init(_ d: String) { description = d }
  }

}
