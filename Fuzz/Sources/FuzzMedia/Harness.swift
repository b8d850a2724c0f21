import Foundation
import FuzzSupport
import MediaIO

/// The media reader: any bytes as a file (containers FFmpeg probes, single pictures, ZIPs of
/// PNG frames, pro bundles), opened as `run` opens an output and decoded for at most 8 frames,
/// alpha and RGB. Every problem must be a thrown `MediaError`.
let path = scratchPath("media")

@_cdecl("FuzzMedia_main")
public func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv, fuzzOne)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ input: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  guard writeInput(input, count, to: path) else { return 0 }
  for options in [
    ReadOptions(rgb: .none, alpha: .alphaChannel), ReadOptions(rgb: .eight, alpha: .none),
    ReadOptions(rgb: .sixteen, alpha: .luma),
  ] {
    guard let reader = try? MediaInput.open(path, options: options) else { continue }
    for _ in 0..<8 {
      guard let frame = try? reader.nextFrame() else { break }
      _ = frame.index
    }
  }
  _ = try? StreamTiming(path: path)
  return 0
}
