import Foundation
import Store
import Testing

@Suite struct SpecialFileTests {
  /// A database path that names a FIFO or a folder is refused in words (SQLite would say
  /// "disk I/O error").
  @Test func aDatabaseMustBeARegularFile() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let fifo = dir + "/db.sqlite"
    #expect(mkfifo(fifo, 0o600) == 0)
    let pipe = #expect(throws: StoreError.self) { try ResultStore(path: fifo) }
    #expect(pipe?.description == "\(fifo): is a FIFO or other special file, not a database file")
    let folder = #expect(throws: StoreError.self) { try ResultStore(path: dir) }
    #expect(folder?.description == "\(dir): is a folder, not a database file")
  }
}
