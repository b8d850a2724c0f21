import Foundation
import FuzzSupport
import Runner
import Services

/// An arm config and a gate file: any bytes loaded as both. Every problem must be a thrown
/// `ConfigError` naming the file.
let path = scratchPath("config.yaml")

@_cdecl("FuzzConfig_main")
public func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv, fuzzOne)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ input: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  guard writeInput(input, count, to: path) else { return 0 }
  if let config = try? ArmConfig.load(path) { _ = try? LocalProvider.settings(for: config) }
  _ = try? GateFile.load(path)
  _ = try? GateFile.alignment(path)
  return 0
}
