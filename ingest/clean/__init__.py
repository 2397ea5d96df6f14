"""Strip web-page chrome from plain-text captures of news article pages.

A "capture" is what select-all/copy (or a text dump) of an article page gives:
the article prose mixed with navigation menus, ticker strips, share buttons,
"related news" lists, sign-in forms, comment boxes, cookie banners, footers
and image file names.  ``clean_capture`` keeps the article (prose, headings,
bullet points, tables, FAQ) and drops the rest, without any site-specific
rules, so it works on captures from sites it has never seen.

Approach (pure Python, stdlib only, linear in the input size):

1. Normalise whitespace (CRLF, tabs, NBSP, zero-width characters) and parse
   every line into a unit: bullet / numbered / markdown-heading prefixes,
   table cells (``|`` or tab separated).
2. Repair broken lines: a capture of a hard-wrapped text dump is unwrapped,
   and a line that stops without terminal punctuation is joined with the next
   line when that one plainly continues the sentence (starts lowercase, with
   ``,;:)`` or ``(``) -- this is where a link or ticker widget was removed
   from a sentence.  Never across a line ending in ``.?!``.
3. Classify every line from line-level features: word count, terminal
   punctuation, stop-word density (en/es/fr/de/pt/it), title case, bullet
   prefix, repetition elsewhere in the page (menus are printed twice),
   price/ticker shapes, URLs and image file names, and multilingual
   boilerplate phrases (cookie consent, sign-in, newsletter, comments,
   copyright...).  Classes: prose (P), heading-like (H), short text (S),
   short bullet (B), table row (T), metadata such as date/by-lines (M),
   junk (J) and section barriers (X: "Related news", "Comments",
   "Share this article", "About the author", copyright footers).
4. Find the main content region: prose lines are anchors, chained into a
   cluster while the non-prose lines between them stay within a small
   weighted budget (a heading or two is fine; a headline list is not).  The
   cluster with the most prose words wins; neighbouring clusters are merged
   when close and not separated by a barrier, a run of headlines or (going
   backwards) the article's date/by-line.  A heading directly in front of
   the region (e.g. "Key takeaways") is pulled in.  FAQ sections are prose
   too, so they stay attached to the article body.
5. Render: paragraphs separated by a blank line, headings as ``## ...``,
   bullets as ``- ...``, table rows as ``a | b | c``.  Title, author and
   publication date are extracted as metadata ("Reading: X" lines, the
   heading-like line just before the region, "By X" lines, date lines in
   six languages).

Modules: tables (the word and pattern tables, data only), lines (units, parsing, line repair, dates and names),
classify (line classes), region (the main content region and the metadata around it), capture (rendering and
``clean_capture``). Run the tests with::

    .venv/bin/python -m pytest tests/test_clean.py -q
"""

from ingest.clean.capture import CleanedText, clean_capture

__all__ = ["CleanedText", "clean_capture"]
