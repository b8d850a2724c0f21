import Foundation
import Testing

@testable import Report

#if canImport(FoundationXML)
import FoundationXML
#endif

@Suite struct CIOutputsTests {
  /// A run with one regressed primary, one inconclusive, one passing, a clip error, and names
  /// that need escaping in XML and Markdown.
  func document(mode: String = "alarm") -> VerdictDocument {
    func endpoint(_ region: String, _ metric: String, _ verdict: String, estimate: Double, worst: Double)
      -> VerdictDocument.Endpoint
    {
      var e = VerdictDocument.Endpoint(
        region: region, metric: metric, isPrimary: true, clips: 8, verdict: verdict, ciLevel: 0.95, marginPercent: 5,
        noisePercent: 0, wins: 0, ties: 0, losses: 8)
      e.estimatePercent = estimate
      e.ciLowPercent = estimate - 2
      e.ciHighPercent = estimate + 2
      e.ci90LowPercent = estimate - 1.5
      e.ci90HighPercent = estimate + 1.5
      e.pValue = 2.0 / 256
      e.adjustedP = 0.039
      e.worstClip = "<script>alert(1)</script>"
      e.worstClipPercent = worst
      e.detectablePercent = 12.5
      return e
    }
    var secondary = endpoint("frame", "SAD", "Improved", estimate: -3, worst: -1)
    secondary.isPrimary = false
    return VerdictDocument(
      runID: "r1", createdAt: Date(timeIntervalSince1970: 0), clipset: "set|1", clipsetSHA256: "abc", provider: "exec",
      configA: "a \"quoted\" name", configB: "b & <c>", configAHash: "h1", configBHash: "h2", mode: mode,
      gateStatus: "regression",
      gateSummary: "FAIL: regression", gateReasons: ["hair/Grad regressed"], exitCode: 2, alpha: 0.05,
      worstClipMarginPercent: 25, clipsScored: 8,
      endpoints: [
        endpoint("hair", "Grad", "Regressed", estimate: 40, worst: 60),
        endpoint("glass", "MSE", "Inconclusive", estimate: 3, worst: 10),
        endpoint("motion", "MAD", "Equivalent", estimate: 0, worst: 1), secondary,
      ],
      problems: [.init(clipID: "clip-9", status: "failed", message: "x.webm: no alpha & \"broken\"")],
      reportPath: "index.html")
  }

  @Test func junitHasATestCasePerPrimaryAndAnErrorPerClip() throws {
    let xml = CIOutputs.junit(document())
    // Well-formed, whatever the names held.
    let parser = XMLParser(data: Data(xml.utf8))
    #expect(parser.parse(), "\(String(describing: parser.parserError))")
    #expect(xml.contains(#"tests="4" failures="1" errors="1" skipped="1""#))
    #expect(xml.components(separatedBy: "<testcase classname=\"mattegate.endpoint\"").count - 1 == 3)
    #expect(xml.contains(#"<testcase classname="mattegate.clip" name="clip-9">"#))
    #expect(xml.contains(#"<failure message="regressed: B/A +40.0%"#))
    #expect(xml.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
    #expect(!xml.contains("<script>"))
    #expect(xml.contains("a &quot;quoted&quot; name"))
    #expect(xml.contains("smallest detectable change with 8 clips ±12.5%"))
  }

  @Test func markdownSummaryEscapesAndFoldsSecondaries() {
    let md = CIOutputs.markdown(document())
    #expect(md.hasPrefix("## mattegate: ❌ REGRESSION (exit 2, alarm mode)"))
    #expect(
      md.contains(
        "| hair/Grad | 8 | +40.0% | [+38.5%, +41.5%] | [+38.0%, +42.0%] | 0.039 | 0/0/8 | +5.0% | Regressed |"))
    #expect(md.contains("Inconclusive (detectable ±12.5%)"))
    #expect(md.contains("<details><summary>Secondary endpoints (1,"))
    #expect(md.contains(#"**b & \<c\>**"#))
    #expect(md.contains(#"`set\|1`"#))
    #expect(md.contains("- `clip-9` (failed): x.webm: no alpha & \"broken\""))
  }

  @Test func jsonHoldsEveryNumber() throws {
    let text = try CIOutputs.json(document())
    let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    let gate = try #require(object["gate"] as? [String: Any])
    #expect(gate["exit_code"] as? Int == 2)
    let endpoints = try #require(object["endpoints"] as? [[String: Any]])
    #expect(endpoints.count == 4)
    let hair = try #require(endpoints.first { $0["region"] as? String == "hair" })
    #expect(hair["adjusted_p"] as? Double == 0.039)
    #expect(hair["adjustment"] as? String == "holm")
    #expect((hair["gate_failure"] as? String)?.contains("worst-clip guard") == true)
    let frame = try #require(endpoints.first { $0["region"] as? String == "frame" })
    #expect(frame["adjustment"] as? String == "benjamini-hochberg")
    #expect(gate["mode"] as? String == "alarm")
  }

  /// A rollout pass with one primary significantly worse but inside its margin: every CI output
  /// carries the warning, and none of them fails on it; in alarm mode the same endpoint fails.
  @Test func worseWithinMarginWarnsEverywhereAndFailsOnlyTheAlarm() throws {
    var doc = document(mode: "rollout")
    var within = VerdictDocument.Endpoint(
      region: "frame", metric: "MSE", isPrimary: true, clips: 8, verdict: "Regressed", ciLevel: 0.95,
      marginPercent: 5, noisePercent: 0, wins: 0, ties: 0, losses: 8)
    within.estimatePercent = 3.2
    within.ciLowPercent = 2.0
    within.ciHighPercent = 4.5
    within.ci90LowPercent = 2.2
    within.ci90HighPercent = 4.3
    within.adjustedP = 0.0078
    within.warning = "worse, within margin"
    doc.endpoints = [within]
    doc.problems = []
    doc.gateStatus = "passed"
    doc.exitCode = 0
    doc.gateSummary =
      "PASS (rollout): B is non-inferior to A on every primary endpoint (1 warning: worse, within margin)"
    doc.gateReasons = ["frame/MSE worse, within margin (+3.2%, 90% upper bound +4.3%)"]
    let xml = CIOutputs.junit(doc)
    #expect(XMLParser(data: Data(xml.utf8)).parse())
    #expect(xml.contains(#"tests="1" failures="0" errors="0" skipped="1""#))
    #expect(xml.contains(#"<skipped message="WARNING: worse, within margin: B/A +3.2%, 90% interval [+2.2%, +4.3%]"#))
    #expect(xml.contains(#"<property name="mode" value="rollout"/>"#))
    let md = CIOutputs.markdown(doc)
    #expect(md.hasPrefix("## mattegate: ✅ PASS (exit 0, rollout mode)"))
    #expect(md.contains(#"- ⚠️ **Warning**: frame/MSE: worse, within margin (B/A +3.2%, 90% interval \[+2.2%, +4.3%\]"#))
    #expect(
      md.contains(
        "| frame/MSE | 8 | +3.2% | [+2.2%, +4.3%] | [+2.0%, +4.5%] | 0.008 | 0/0/8 | +5.0% | Regressed ⚠️ worse, within margin |"
      ))
    let object = try #require(
      try JSONSerialization.jsonObject(with: Data(try CIOutputs.json(doc).utf8)) as? [String: Any])
    let gate = try #require(object["gate"] as? [String: Any])
    #expect((gate["warnings"] as? [String])?.first?.hasPrefix("frame/MSE: worse, within margin") == true)
    let e = try #require((object["endpoints"] as? [[String: Any]])?.first)
    #expect(e["warning"] as? String == "worse, within margin")
    #expect(e["gate_failure"] is NSNull)
    let decision = try #require(e["decision_interval"] as? [String: Any])
    #expect(decision["low_pct"] as? Double == 2.2 && decision["high_pct"] as? Double == 4.3)
    // The same endpoint in alarm mode is a failure.
    doc.mode = "alarm"
    #expect(CIOutputs.junit(doc).contains(#"<failure message="regressed: B/A +3.2%"#))
  }
}
