import Clips
import Foundation
import FuzzSupport

/// A clip set manifest: any bytes as `clipset.yaml` in a scratch folder, loaded and checked
/// without hashing (the harness looks for crashes and hangs in parsing and validation; every
/// error must be a thrown `ConfigError`).
let folder = scratchPath("manifest")
let prepared: Bool = {
  try? FileManager.default.createDirectory(atPath: folder + "/c", withIntermediateDirectories: true)
  FileManager.default.createFile(atPath: folder + "/c/source.mp4", contents: Data([0]))
  return true
}()

@_cdecl("FuzzManifest_main")
public func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv, fuzzOne)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ input: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  _ = prepared
  guard writeInput(input, count, to: folder + "/clipset.yaml") else { return 0 }
  _ = try? ClipSet.load(folder: folder, verifyHashes: false)
  return 0
}
