public import Foundation
public import Store

extension RunRecord {
  /// Stores `label`'s fields on the run.
  public mutating func apply(_ label: RunLabel) {
    name = label.name
    runDescription = label.description
    tags = label.tagText
    gitCommit = label.gitCommit
    gitBranch = label.gitBranch
    commandLine = label.commandLine
  }
}

/// What CI and people call a run (`--run-id`, `--name`, `--description`, `--tag k=v`) and
/// where it was made (git commit and branch, the command line).
public struct RunLabel: Sendable, Equatable {
  public var name: String?
  public var description: String?
  /// Tags in the order given; a key given twice keeps its last value.
  public var tags: [String: String] = [:]
  public var commandLine: String?
  public var gitCommit: String?
  public var gitBranch: String?

  public init() {}

  /// The tags as sorted `k=v` lines (the form stored in `runs.tags`), or nil without tags.
  public var tagText: String? {
    tags.isEmpty ? nil : tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
  }

  /// Why `id` cannot be a run id, or nil: 1–64 characters of letters, digits, `.`, `_` and
  /// `-`, starting with a letter or digit (it names a folder and a URL path segment).
  public static func idProblem(_ id: String) -> String? {
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    guard !id.isEmpty, id.count <= 64 else { return "'\(id.prefix(70))' must be 1 to 64 characters" }
    guard let first = id.first, first.isASCII, first.isLetter || first.isNumber else {
      return "'\(id)' must start with a letter or digit"
    }
    guard id.allSatisfy(allowed.contains) else {
      return "'\(id)' may hold only letters, digits, '.', '_' and '-'"
    }
    return nil
  }

  /// `k=v` as a tag, or why not: the key is 1–40 of letters, digits, `.`, `_`, `-`; the value
  /// 0–200 characters without line breaks.
  public static func parseTag(_ text: String) -> Result<(String, String), TagError> {
    guard let eq = text.firstIndex(of: "=") else { return .failure(TagError("'\(text)' is not k=v")) }
    let key = String(text[..<eq])
    let value = String(text[text.index(after: eq)...])
    let keyCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    guard !key.isEmpty, key.count <= 40, key.allSatisfy(keyCharacters.contains) else {
      return .failure(TagError("tag key '\(key.prefix(50))' must be 1 to 40 letters, digits, '.', '_' or '-'"))
    }
    guard value.count <= 200, !value.contains(where: { $0.isNewline }) else {
      return .failure(TagError("tag '\(key)' has a value longer than 200 characters or with a line break"))
    }
    return .success((key, value))
  }

  public struct TagError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ d: String) { description = d }
  }

  /// The commit and branch of the git work tree holding `directory`, when it is one and git is
  /// installed; nils otherwise (never an error: a run outside git is normal).
  public static func git(in directory: String = FileManager.default.currentDirectoryPath) -> (
    commit: String?, branch: String?
  ) {
    func ask(_ arguments: [String]) -> String? {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = ["git", "-C", directory] + arguments
      let out = Pipe()
      process.standardOutput = out
      process.standardError = FileHandle.nullDevice
      do { try process.run() } catch { return nil }
      let data = out.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      guard process.terminationStatus == 0 else { return nil }
      let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
      return text.isEmpty ? nil : text
    }
    guard let commit = ask(["rev-parse", "--verify", "-q", "HEAD"]) else { return (nil, nil) }
    let branch = ask(["rev-parse", "--abbrev-ref", "HEAD"]).flatMap { $0 == "HEAD" ? nil : $0 }
    return (commit, branch)
  }
}
