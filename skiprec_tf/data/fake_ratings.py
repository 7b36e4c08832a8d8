"""A MovieLens-20M-shaped `ratings.csv`, generated and written fast, to benchmark preprocessing.

The shape follows ML-20M (138,493 users, 26,744 movies, 20,000,263 ratings): every user has at
least 20 ratings and the counts per user are heavy-tailed (log-normal: median 67, the largest
9,360 at ML-20M's sizes; ML-20M: 68 and 9,254); movie popularity falls with rank as
`exp(-13 (rank / V)^0.4)`, which at ML-20M's sizes (seed 0) gives the most rated movie 0.32% of
the ratings (ML-20M: 0.34%) and a median of 18 ratings per movie (ML-20M: 18), 2,440 movies
rated fewer than 5 times. A user rates a movie at most once; movie ids are sparse (as ML-20M's
1..131,262); rows are sorted by user, then movie, as in the real file; ratings are half stars
with ML-20M's frequencies, timestamps unix seconds within a per-user active period. Only the
shape is realistic: there is no sequential structure to learn.
"""

import numpy as np

HEADER = b"userId,movieId,rating,timestamp\n"
MIN_PER_USER = 20
# ML-20M's frequency of each half star 0.5, 1.0, ..., 5.0 (percent).
_RATING_PERCENT = (1.2, 3.3, 1.4, 7.2, 4.4, 21.4, 10.5, 27.8, 7.7, 14.5)
_FIRST_TIME, _LAST_TIME = 789_652_009, 1_427_784_002  # ML-20M's first and last timestamps.
_USER_SIGMA = 1.4  # log-normal spread of the ratings per user above the minimum.
_MAX_USER_SHARE = 0.35  # nobody rates more than this share of the movies (ML-20M: 9,254 / 26,744).
_POPULARITY = (13.0, 0.4)  # log(most / least popular weight), the exponent of the rank.
_POPULAR_ROUNDS = 40  # later rounds of the distinct-movie draw are uniform, see `_distinct_keys`.


def generate_ratings(rows, users, items, seed):
    """Generates `rows` ratings of `users` users on `items` movies.

    Args:
      rows: ratings; at least `20 * users` and at most `0.35 * items * users`.
      users: users, ids 1..users.
      items: movies, ids drawn from 1..~4.9 * items.
      seed: seed of everything.

    Returns:
      `dict` of int64 arrays `user`, `item`, `timestamp` and `half_stars` (the rating x 2,
      1..10), rows sorted by user, then item.

    Raises:
      ValueError: `rows` outside the bounds above.
    """
    cap = max(MIN_PER_USER, int(_MAX_USER_SHARE * items))
    if not users * MIN_PER_USER <= rows <= users * cap or items < MIN_PER_USER:
        raise ValueError(
            f"rows={rows} must be between {MIN_PER_USER} and {cap} per user "
            f"(users={users}, items={items} >= {MIN_PER_USER})"
        )
    rng = np.random.default_rng(seed)
    counts = _user_counts(rng, rows, users, cap)
    max_id = max(items, int(items * 4.9))
    movie_ids = rng.choice(max_id, items, replace=False).astype(np.int64) + 1
    keys = _distinct_keys(rng, counts, movie_ids, max_id + 1)
    user, item = keys // (max_id + 1), keys % (max_id + 1)
    starts = rng.integers(_FIRST_TIME, _LAST_TIME, users)
    spans = np.minimum(_LAST_TIME - starts, rng.lognormal(np.log(86_400 * 30), 2.5, users))
    timestamp = starts[user] + (rng.random(rows) * spans[user]).astype(np.int64)
    percent = np.asarray(_RATING_PERCENT)
    half_stars = rng.choice(np.arange(1, 11), rows, p=percent / percent.sum())
    return {"user": user + 1, "item": item, "timestamp": timestamp, "half_stars": half_stars}


def write_ratings_csv(path, ratings, chunk_rows=1_000_000):
    """Writes `ratings` (from `generate_ratings`) as ML-20M's `ratings.csv`, `chunk_rows` at a time.

    The text is built in numpy (digits by integer division), which is ~20x faster than
    `DataFrame.to_csv`.
    """
    columns = [
        np.asarray(ratings[k], np.int64) for k in ("user", "item", "half_stars", "timestamp")
    ]
    chunks = (
        _csv_lines(*(c[start : start + chunk_rows] for c in columns)).tobytes()
        for start in range(0, len(columns[0]), chunk_rows)
    )
    with open(path, "wb") as f:
        f.write(HEADER)
        f.writelines(chunks)


def _user_counts(rng, rows, users, cap):
    """Ratings per user: `MIN_PER_USER` plus a log-normal share of the rest, at most `cap`."""
    weights = rng.lognormal(0.0, _USER_SIGMA, users)
    counts = np.full(users, MIN_PER_USER, np.int64)
    while (missing := rows - int(counts.sum())) > 0:
        room = counts < cap
        share = np.where(room, weights, 0.0)
        counts = np.minimum(counts + rng.multinomial(missing, share / share.sum()), cap)
    return counts


def _distinct_keys(rng, counts, movie_ids, stride):
    """Sorted `user * stride + movie id` keys: `counts[u]` distinct movies for each user `u`.

    Movies are drawn by popularity and repeats redrawn; after `_POPULAR_ROUNDS` rounds the few
    users still short (those rating up to a third of the catalogue, who have taken nearly all of
    the popular mass, so popularity draws would almost only repeat) are filled uniformly.
    """
    rank = np.arange(len(movie_ids)) / max(len(movie_ids) - 1, 1)
    popularity = np.exp(-_POPULARITY[0] * rank ** _POPULARITY[1])
    popularity /= popularity.sum()
    done, pending = [], np.zeros(0, np.int64)
    deficit, rounds = counts, 0
    while deficit.any():
        owners = np.repeat(np.arange(len(counts)), deficit)
        if rounds < _POPULAR_ROUNDS:
            picked = rng.choice(len(movie_ids), len(owners), p=popularity)
        else:
            picked = rng.integers(0, len(movie_ids), len(owners))
        pending = _sorted_unique(np.concatenate([pending, owners * stride + movie_ids[picked]]))
        have = np.bincount(pending // stride, minlength=len(counts))
        deficit = np.where(have > 0, counts - have, deficit)
        complete = (deficit == 0)[pending // stride]
        done.append(pending[complete])
        pending = pending[~complete]
        rounds += 1
    return np.sort(np.concatenate(done))


def _sorted_unique(keys):
    """`np.unique(keys)` by a sort (numpy 2.4's hash-based `unique` is ~10x slower on 20M)."""
    keys = np.sort(keys)
    return keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys


def _csv_lines(user, item, half_stars, timestamp):
    """`user,item,r.r,timestamp\\n` lines of non-negative ints as one uint8 array."""
    ints = (user, item, timestamp)
    widths = [_digits(column) for column in ints]
    lengths = widths[0] + widths[1] + widths[2] + 3 + 3  # three fields + the rating, 3 commas.
    ends = np.cumsum(lengths + 1)
    out = np.empty(int(ends[-1]) if len(ends) else 0, np.uint8)
    position = ends - lengths - 1
    for column, width, after in zip(ints[:2], widths[:2], b",,"):
        _put_digits(out, position, column, width)
        position += width
        out[position] = after
        position += 1
    out[position] = 48 + half_stars // 2
    out[position + 1] = ord(".")
    out[position + 2] = np.where(half_stars % 2 == 1, ord("5"), ord("0"))
    out[position + 3] = ord(",")
    position += 4
    _put_digits(out, position, timestamp, widths[2])
    out[ends - 1] = ord("\n")
    return out


def _digits(column):
    """Decimal digits of each non-negative int (1 for 0)."""
    width = np.ones(len(column), np.int64)
    power = 10
    while len(column) and power <= column.max():
        width += column >= power
        power *= 10
    return width


def _put_digits(out, position, column, width):
    """Writes `column[i]` in decimal into `out[position[i] : position[i] + width[i]]`."""
    rest = column.copy()
    last = position + width - 1
    for k in range(int(width.max()) if len(width) else 0):
        live = width > k
        out[last[live] - k] = 48 + rest[live] % 10
        rest //= 10
