from gui_helpers import pixel, render


def test_window_opens_and_shows_program(make_window, qtbot):
    window = make_window()
    render(window)
    assert pixel(window.studio, 10, 10) == (255, 0, 0)
    assert window.program_view.image is not None
    assert window.preview_view.image is not None
