import Foundation
import FuzzSupport
import Services

/// The job API's JSON as the http provider decodes it: every answer type from any bytes.
/// Every problem must be a thrown `DecodingError`.
@_cdecl("FuzzJobJSON_main")
public func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
  runFuzzer(argc, argv, fuzzOne)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ input: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  guard let data = input else { return 0 }
  let bytes = Data(bytes: data, count: count)
  let decoder = JobAPI.decoder
  _ = try? decoder.decode(JobAPI.Job.self, from: bytes)
  _ = try? decoder.decode(JobAPI.JobList.self, from: bytes)
  _ = try? decoder.decode(JobAPI.Upload.self, from: bytes)
  _ = try? decoder.decode(JobAPI.ErrorBody.self, from: bytes)
  _ = try? decoder.decode(JobAPI.CreditBalance.self, from: bytes)
  _ = try? decoder.decode(JobAPI.Capabilities.self, from: bytes)
  _ = try? decoder.decode(JobAPI.Health.self, from: bytes)
  // The vendor dialects read their answers as loose JSON: any bytes, any shape.
  let answer = HTTPAnswer(status: 400, body: bytes)
  _ = RemoveBGVideoProvider.describe(answer)
  _ = RemoveBGVideoProvider.status(RemoveBGVideoProvider.object(bytes)?["status"])
  _ = VideoBGRemoverProvider.describe(answer)
  _ = ReplicateProvider.describe(answer)
  return 0
}
