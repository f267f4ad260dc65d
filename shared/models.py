"""The vocabulary both sides share: categories, levels, end reasons, event kinds."""

from __future__ import annotations

from typing import Final

# The four graded categories of the deep learning test, in the order they are reported.
CATEGORIES: Final[dict[str, str]] = {
    "foundations": "Deep learning foundations",
    "improving": "Techniques to improve neural networks",
    "cnn": "Convolutional neural networks",
    "sequence": "Sequence models",
}

LEVELS: Final = ("beginning", "developing", "accomplished")

END_REASONS: Final = ("finished", "time_up", "voided")


def category_name(category: str) -> str:
    return CATEGORIES.get(category, category)


def level_name(level: str) -> str:
    return level.capitalize()


# What each level means in each category: the test's published rubric.
RUBRIC: Final[dict[str, dict[str, str]]] = {
    "foundations": {
        "beginning": "Demonstrates limited understanding of foundational deep learning concepts.",
        "developing": "Demonstrates ability to implement fully-connected neural networks to "
        "solve a classification or regression problem.",
        "accomplished": "Demonstrates ability to implement fully-connected neural networks, "
        "and identify their use cases and shortcomings.",
    },
    "improving": {
        "beginning": "Demonstrates limited understanding of strategies to improve neural networks.",
        "developing": "Demonstrates ability to understand techniques used to improve neural "
        "networks with some effectiveness. This includes dropout, stochastic gradient descent, "
        "weight initialization, and transfer learning.",
        "accomplished": "Demonstrates mastery of techniques to improve neural networks and "
        "solve problems such as overfitting, vanishing/exploding gradients, lack of "
        "convergence, and slow training.",
    },
    "cnn": {
        "beginning": "Demonstrates limited understanding of how CNNs work.",
        "developing": "Demonstrates ability to understand the components of a CNN and how to "
        "train it.",
        "accomplished": "Demonstrates ability to set up, train and apply CNNs to computer "
        "vision problems.",
    },
    "sequence": {
        "beginning": "Demonstrates limited understanding of how sequence models work.",
        "developing": "Demonstrates ability to understand RNNs and how to train them.",
        "accomplished": "Demonstrates ability to set up, train and apply RNNs to use cases such "
        "as time-series modeling, natural language processing, or speech recognition.",
    },
}

# Results compare a candidate with others only once this many have taken the assessment.
MIN_COHORT: Final = 30


def rubric(category: str, level: str) -> str:
    """The rubric's sentence for ``level`` in ``category`` (empty for a category it lacks)."""
    return RUBRIC.get(category, {}).get(level, "")


def next_level(level: str) -> str | None:
    index = LEVELS.index(level) if level in LEVELS else len(LEVELS) - 1
    return LEVELS[index + 1] if index + 1 < len(LEVELS) else None


def confidence_words(probability: float) -> str:
    """How sure a level is, in honest words (a measurement is never certain)."""
    if probability >= 0.9:
        return "very likely"
    if probability >= 0.75:
        return "likely"
    if probability >= 0.5:
        return "more likely than not"
    return "a best estimate; a neighbouring level is almost as likely"
