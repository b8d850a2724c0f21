import Foundation
import Store
import TestSupport
import Testing

/// Runs renamed, tagged, archived and deleted, and quality notes, through the CLI (issue 28,
/// items 6 and 7).
@Suite(.serialized) struct RunAdminTests {
  @Test func renameTagArchiveNoteAndDelete() throws {
    let clips = try CLI.tinyClipSet()
    let dir = try CLI.folder()
    let db = dir + "/m.sqlite"
    let out = dir + "/reports"
    for id in ["keep", "gone"] {
      let r = try CLI.run([
        "run", "--clipset", clips, "--a", "configs/baseline.yaml", "--b", "configs/candidate.yaml", "--db", db,
        "--out", out, "--run-id", id,
      ])
      #expect([0, 2, 3].contains(r.status), "\(r.stderr)")
    }
    let store = try ResultStore(path: db)
    let clip = try #require(try store.clips(runID: "keep").first)

    // Rename and tags.
    #expect(try CLI.run(["runs", "rename", "keep", "nightly candidate", "--db", db]).status == 0)
    #expect(try CLI.run(["runs", "tag", "keep", "pr=9", "team=matte", "--db", db]).status == 0)
    let tagged = try CLI.run(["runs", "tag", "keep", "--remove", "team", "pr=10", "--db", db])
    #expect(tagged.stdout == "run keep tags: pr=10\n", "\(tagged.stdout)")
    var run = try #require(try store.run(id: "keep"))
    #expect(run.name == "nightly candidate" && run.tags == "pr=10")
    let badTag = try CLI.run(["runs", "tag", "keep", "no-equals", "--db", db])
    #expect(badTag.status == 1 && badTag.stderr.contains("'no-equals' is not k=v"), "\(badTag.stderr)")
    #expect(try CLI.run(["runs", "rename", "nope", "x", "--db", db]).stderr.contains("there is no run nope"))

    // Archive: out of history's list, said so; back again.
    #expect(try CLI.run(["runs", "archive", "gone", "--db", db]).status == 0)
    run = try #require(try store.run(id: "gone"))
    #expect(run.archivedAt != nil)
    let history = try CLI.run(["history", "--db", db])
    #expect(!history.stdout.contains("gone ") && history.stdout.contains("keep "))
    #expect(history.stdout.contains("(1 archived run not listed: mattegate runs unarchive RUN)"))
    #expect(try CLI.run(["runs", "unarchive", "gone", "--db", db]).status == 0)
    #expect(try store.run(id: "gone")?.archivedAt == nil)

    // Notes: on a frame of a clip's arm, and on the run; bad ones are one error line each.
    let note = try CLI.run([
      "note", "keep", "hair edge flickers on the turn", "--clip", clip.clipID, "--arm", "B", "--frame", "1",
      "--author", "rev", "--db", db,
    ])
    #expect(note.status == 0, "\(note.stderr)")
    #expect(try CLI.run(["note", "keep", "run-wide: fine", "--author", "lead", "--db", db]).status == 0)
    for (arguments, message) in [
      (["--clip", clip.clipID, "--frame", "\(clip.frames)"], "has \(clip.frames) frames"),
      (["--clip", "nope"], "run keep has no clip 'nope'"),
      (["--arm", "C"], "a note's arm is A or B"),
      (["--frame", "0"], "a note on a frame names its clip"),
    ] {
      let r = try CLI.run(["note", "keep", "x", "--author", "rev", "--db", db] + arguments)
      #expect(r.status == 1 && r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(message), "\(r.stderr)")
    }
    let notes = try store.notes(runID: "keep")
    #expect(notes.count == 2 && notes[0].arm == "B" && notes[0].frame == 1 && notes[0].author == "rev")
    #expect(try CLI.run(["report", "keep", "--db", db, "--out", out]).status != 1)
    let html = try String(contentsOfFile: out + "/keep/index.html", encoding: .utf8)
    #expect(html.contains("<q>hair edge flickers on the turn</q>"))
    #expect(html.contains("<h3>Notes on this run</h3>") && html.contains("<q>run-wide: fine</q>"))
    #expect(html.contains("Reviewers' notes on candidate</h4>"))
    #expect(!html.contains("<form class=\"note-form\""))

    // Delete: confirmation needed without a terminal; --yes removes rows and both folders.
    #expect(FileManager.default.fileExists(atPath: out + "/gone/index.html"))
    #expect(FileManager.default.fileExists(atPath: out + "/outputs/gone"))
    let unconfirmed = try CLI.run(["runs", "delete", "gone", "--db", db, "--out", out])
    #expect(unconfirmed.status == 1 && unconfirmed.stderr.contains("needs confirmation"))
    #expect(try store.run(id: "gone") != nil)
    let deleted = try CLI.run(["runs", "delete", "gone", "--yes", "--db", db, "--out", out])
    #expect(deleted.status == 0, "\(deleted.stderr)")
    #expect(try store.run(id: "gone") == nil && (try store.clips(runID: "gone")).isEmpty)
    #expect(try store.jobs(runID: "gone").isEmpty && (try store.clipMetrics(runID: "gone")).isEmpty)
    #expect(!FileManager.default.fileExists(atPath: out + "/gone"))
    #expect(!FileManager.default.fileExists(atPath: out + "/outputs/gone"))
    #expect(FileManager.default.fileExists(atPath: out + "/keep/index.html"))
    #expect(try store.notes(runID: "keep").count == 2)
  }
}
