"""Data set statistics in the layout of the paper's Table 1."""

_HEADER = ("Dataset", "#items", "#interactions", "#sequences", "Length t")


def format_table1(name, data):
    """Formats `data` (a `SequenceData`) as the paper's Table 1, plus a split line.

    Example:
      Dataset          #items  #interactions  #sequences  Length t
      ml-latest-small   3,650         90,274       4,827        20
      #train 3,862  #valid 241  #test 724

    Returns:
      Plain text with aligned columns (name left-aligned, numbers right-aligned), no final newline.
    """
    values = (
        str(name),
        f"{data.num_items:,}",
        f"{data.num_interactions:,}",
        f"{data.num_sequences:,}",
        f"{data.seq_len:,}",
    )
    widths = [max(len(h), len(v)) for h, v in zip(_HEADER, values)]
    header = "  ".join(_align(h, w, i) for i, (h, w) in enumerate(zip(_HEADER, widths)))
    row = "  ".join(_align(v, w, i) for i, (v, w) in enumerate(zip(values, widths)))
    splits = "  ".join(
        f"#{split} {len(getattr(data, split)):,}" for split in ("train", "valid", "test")
    )
    return f"{header.rstrip()}\n{row.rstrip()}\n{splits}"


def _align(text, width, column):
    """Left-aligns the first column (names), right-aligns the others (numbers)."""
    return text.ljust(width) if column == 0 else text.rjust(width)
