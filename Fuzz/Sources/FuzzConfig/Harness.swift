import Foundation
import Runner
import Services

/// An arm config and a gate file: any bytes loaded as both. Every problem must be a thrown
/// `ConfigError` naming the file.
let path = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-config-\(getpid()).yaml").path

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  guard FileManager.default.createFile(atPath: path, contents: Data(bytes: data, count: count)) else { return 0 }
  if let config = try? ArmConfig.load(path) { _ = try? LocalProvider.settings(for: config) }
  _ = try? GateFile.load(path)
  _ = try? GateFile.alignment(path)
  return 0
}
