import Foundation
import FuzzSupport
import MatteMetrics

/// Motion fields: any bytes as a `.npy` of a small field (refused with an `NpyError` or read),
/// then the same bytes as raw vectors of any value (NaN, infinities, ±1e38 included) with
/// mattes made from them, scored with MESSDdt. The scorer's C kernels must stay inside the
/// frame whatever the vectors say.
@_cdecl("FuzzMotion_main")
public func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv, fuzzOne)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ input: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  guard let input, count >= 2 else { return 0 }
  let bytes = [UInt8](UnsafeBufferPointer(start: input, count: count))
  // Sizes across the 16×8 block grid's edges: 1…40 by 1…20.
  let width = Int(bytes[0] % 40) + 1
  let height = Int(bytes[1] % 20) + 1
  let whole = try? MotionField(npy: Data(bytes), width: width, height: height)
  // Read as scoring reads it (no dx, dy): refused alike, and the same targets and reach.
  let bare = try? bytes.withUnsafeBytes { try MotionField(npy: $0, width: width, height: height, components: false) }
  precondition((whole == nil) == (bare == nil), "the two reads disagree on refusing the field")
  if let whole, let bare {
    precondition(bare.targets == whole.targets && bare.blockReach == whole.blockReach, "the two reads differ")
    // The one-pass boxes (vector and tail paths) against boxes made from the targets alone.
    precondition(
      whole.blockBoxes == MotionField.boxes(of: whole.targets, width: width, height: height)
        && bare.blockBoxes == whole.blockBoxes, "the targets' boxes differ")
  }
  let n = width * height
  var floats = [Float](repeating: 0, count: 2 * n)
  bytes.dropFirst(2).withUnsafeBytes { raw in
    for i in 0..<min(2 * n, raw.count / 4) {
      floats[i] = Float(bitPattern: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))
    }
  }
  let field = MotionField(
    width: width, height: height, dx: (0..<n).map { floats[2 * $0] }, dy: (0..<n).map { floats[2 * $0 + 1] })
  // Four mattes from the bytes again: prediction and truth at t − 1 and t.
  func matte(_ k: Int, maxValue: Int) -> Matte {
    Matte(
      width: width, height: height, maxValue: maxValue,
      codes: (0..<n).map { UInt16(Int(bytes[(2 + 4 * $0 + k) % bytes.count]) * maxValue / 255) })
  }
  let truth0 = PreparedTruth(matte(0, maxValue: 65535))
  let truth1 = PreparedTruth(matte(1, maxValue: 65535), previous: truth0)
  let scored = FrameScorer.score(
    prediction: matte(2, maxValue: 255), truth: truth1, previous: (matte(3, maxValue: 255), truth0), motion: field)
  precondition(scored.sum(.frame, .messddt).isFinite && scored.sum(.frame, .messddt) >= 0, "MESSDdt out of range")
  return 0
}
