/// libFuzzer's driver, called from each harness's entry point. SwiftPM links an executable
/// with `main` defined as `<Target>_main`; each harness defines that symbol and hands its
/// input callback to `LLVMFuzzerRunDriver` (and exports the same callback as
/// `LLVMFuzzerTestOneInput`, which libFuzzer's own `main` object refers to).
import Foundation

@_silgen_name("LLVMFuzzerRunDriver")
func llvmFuzzerRunDriver(
  _ argc: UnsafeMutablePointer<CInt>,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
  _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

public func runFuzzer(
  _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
  _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt {
  var count = argc
  var values = argv
  return llvmFuzzerRunDriver(&count, &values, callback)
}

/// A per-process scratch file for harnesses that read their input from a path.
public func scratchPath(_ name: String) -> String {
  FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-\(name)-\(getpid())").path
}

/// Writes the input to `path`; false when there is none or it cannot be written.
public func writeInput(_ input: UnsafePointer<UInt8>?, _ count: Int, to path: String) -> Bool {
  guard let input else { return false }
  return FileManager.default.createFile(atPath: path, contents: Data(bytes: input, count: count))
}
