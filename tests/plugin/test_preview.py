"""The live preview's timing, without Krita: a preview runs once the layers settle."""

from krita_deepcolor.preview import PreviewScheduler


def test_a_preview_runs_once_after_the_layers_stay_unchanged_for_the_quiet_time():
    scheduler = PreviewScheduler(quiet_s=0.7)
    assert not scheduler.due("a", 0.0), "the first look starts the quiet time"
    assert not scheduler.due("a", 0.5)
    assert scheduler.due("a", 0.7)
    assert not scheduler.due("a", 0.8) and not scheduler.due("a", 60.0), "one preview per change"


def test_each_change_starts_the_quiet_time_again():
    scheduler = PreviewScheduler(quiet_s=1.0)
    scheduler.due(["line", b"1"], 0.0)
    assert not scheduler.due(["line", b"2"], 0.9)  # a stroke while waiting
    assert not scheduler.due(["line", b"2"], 1.5), "counted from the last change"
    assert scheduler.due(["line", b"2"], 1.9)
    assert not scheduler.due(["line", b"3"], 2.0)
    assert scheduler.due(["line", b"3"], 3.0), "a later change previews again"


def test_reset_forgets_what_was_seen():
    scheduler = PreviewScheduler(quiet_s=0.5)
    scheduler.due("a", 0.0)
    assert scheduler.due("a", 0.5)
    scheduler.reset()  # the preview was turned off and on again
    assert not scheduler.due("a", 1.0), "the same layers are previewed again, after the quiet time"
    assert scheduler.due("a", 1.5)


def test_a_stroke_end_previews_a_change_at_once_and_only_once():
    scheduler = PreviewScheduler(quiet_s=0.7)
    assert scheduler.stroke_ended("a"), "the layers were never previewed"
    assert not scheduler.stroke_ended("a"), "a click that changed nothing"
    assert not scheduler.due("a", 5.0), "the quiet wait does not preview it again"
    scheduler.due("b", 6.0)  # a change the poll saw first (a fill, an undo)
    assert scheduler.stroke_ended("b"), "the stroke's end does not wait for the quiet time"
    assert not scheduler.due("b", 7.0)
    scheduler.due("c", 8.0)
    assert scheduler.due("c", 8.7), "without a stroke end the quiet wait still previews"
    assert not scheduler.stroke_ended("c")
