import Foundation
import Services

/// The job API's JSON as the http provider decodes it: every answer type from any bytes.
/// Every problem must be a thrown `DecodingError`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  let bytes = Data(bytes: data, count: count)
  let decoder = JobAPI.decoder
  _ = try? decoder.decode(JobAPI.Job.self, from: bytes)
  _ = try? decoder.decode(JobAPI.JobList.self, from: bytes)
  _ = try? decoder.decode(JobAPI.Upload.self, from: bytes)
  _ = try? decoder.decode(JobAPI.ErrorBody.self, from: bytes)
  _ = try? decoder.decode(JobAPI.CreditBalance.self, from: bytes)
  _ = try? decoder.decode(JobAPI.Capabilities.self, from: bytes)
  _ = try? decoder.decode(JobAPI.Health.self, from: bytes)
  return 0
}
