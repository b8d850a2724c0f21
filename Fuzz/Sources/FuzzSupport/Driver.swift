/// libFuzzer's driver, called from each harness's entry point. SwiftPM links an executable
/// with `main` defined as `<Target>_main`; each harness defines that symbol and hands its
/// input callback to `LLVMFuzzerRunDriver` (and exports the same callback as
/// `LLVMFuzzerTestOneInput`, which libFuzzer's own `main` object refers to).
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
