"""The text pipeline keeps offsets into the essay as read, whatever its quotes, dashes and layout."""
from marker.text import analyse, normalise


def test_offsets_point_into_the_original_text():
    text = "Stalin\u2019s \u201cgrey blur\u201d image \u2014 useful.\n\nTrotsky, e.g. the Commissar for War, lost in Jan. 1925."
    doc = analyse(text)
    assert len(doc.paragraphs) == 2
    for s in doc.sentences:
        assert text[s.start:s.end] == s.text
        for t in s.tokens:
            assert normalise(text)[t.start:t.end] == t.text
    assert [t.text for t in doc.sentences[0].tokens][:2] == ["Stalin's", "grey"]


def test_abbreviations_do_not_split_sentences():
    doc = analyse("Trotsky, e.g. the Commissar for War, resigned in Jan. 1925. Stalin won.")
    assert [s.text for s in doc.sentences] == [
        "Trotsky, e.g. the Commissar for War, resigned in Jan. 1925.", "Stalin won."]


def test_one_line_per_paragraph_and_bullets():
    doc = analyse("Stalin was General Secretary and controlled who got which job in the party.\n"
                  "Trotsky was arrogant and never built a following among the party officials.\n")
    assert len(doc.paragraphs) == 2
    bullets = analyse("- Stalin was General Secretary\n- Trotsky was ill\n- Lenin died in 1924")
    assert len(bullets.sentences) == 3 and all(s.bullet for s in bullets.sentences)


def test_hard_wrapped_lines_join_into_one_sentence():
    doc = analyse("Stalin controlled appointments and so\nthe delegates voted for him.")
    assert len(doc.sentences) == 1


def test_stems_are_shared_by_word_forms():
    doc = analyse("He appointed officials. The appointments mattered.")
    assert doc.sentences[0].tokens[1].stem == doc.sentences[1].tokens[1].stem[: len(doc.sentences[0].tokens[1].stem)]
