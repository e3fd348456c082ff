"""Prompts, model responses and judge explanations of the generated outputs."""

from __future__ import annotations

import random

# --- text -----------------------------------------------------------------------------------

_SUBJECTS = (
    "the city council",
    "a regional airline",
    "the central bank",
    "a local school board",
    "the football club",
    "a technology start-up",
    "the health ministry",
    "a coastal village",
    "the national museum",
    "a shipping company",
    "the university hospital",
    "a wind farm operator",
)
_EVENTS = (
    "announced a new plan to cut costs",
    "reported record profits for the quarter",
    "postponed the opening of its new site",
    "agreed to a settlement after a long dispute",
    "launched an investigation into the delays",
    "hired two hundred new staff",
    "warned of higher prices next year",
    "won an award for its recycling scheme",
)
_MENUS = ("Account", "Settings", "Help", "Orders", "Requests")
_PLACES = ("Lisbon", "Osaka", "Nairobi", "Calgary", "Tromso", "Valparaiso", "Gdansk", "Perth")
_TOPIC_QUESTIONS = {
    "support": (
        "How do I reset my password if I no longer have access to my email?",
        "My order arrived damaged. What are my options?",
        "Why was my account locked after three login attempts?",
        "Can I change the delivery address after the order has shipped?",
    ),
    "billing": (
        "Why was I charged twice this month?",
        "How do I download an invoice for last year?",
        "Can I switch from monthly to annual billing mid-cycle?",
        "What happens if my card payment fails?",
    ),
    "onboarding": (
        "What do I need to prepare for my first day?",
        "How do I get access to the team's shared drive?",
        "Who approves my equipment request?",
        "Where can I find the onboarding checklist?",
    ),
    "legal": (
        "Can a customer cancel a contract within fourteen days?",
        "What must a privacy notice contain?",
        "Is an e-mail confirmation a binding acceptance?",
        "How long must invoices be kept?",
    ),
    "catalog": (
        "Which of these jackets is waterproof?",
        "Is the blue model available in size M?",
        "What is the difference between the pro and the standard version?",
        "Does this kettle have an automatic shut-off?",
    ),
    "travel": (
        "Can I bring a second bag on a basic fare?",
        "What documents do I need for a connecting flight?",
        "How do I change the name on a booking?",
        "Is breakfast included in the hotel rate?",
    ),
    "medical": (
        "When should a fever in an adult be checked by a doctor?",
        "What are common side effects of ibuprofen?",
        "How much water should I drink per day?",
        "Can I take paracetamol with antibiotics?",
    ),
    "hr": (
        "How many days of annual leave do I have?",
        "How do I report a change of address?",
        "What is the parental leave policy?",
        "Can I carry unused leave into next year?",
    ),
}
_GOOD_OPENERS = (
    "Here is a short answer.",
    "Based on the information given,",
    "In short:",
    "The key point is this:",
)
_FILLER = (
    "This depends on the details of the situation.",
    "Please check the latest policy for specifics.",
    "There are a few other factors worth noting.",
    "Several sources give slightly different figures.",
    "It is worth confirming this with the relevant team.",
    "The answer may change if the circumstances differ.",
)
_WRONG = (
    "I am not sure, but it might be something else entirely.",
    "The information provided is not enough to answer.",
    "It is probably unrelated to the question asked.",
    "I cannot help with that request.",
)
_CATEGORIES = ("news", "science", "sports", "finance", "culture", "policy", "health", "travel")


def _topic_of(dataset: str) -> str:
    head = dataset.split("-", 1)[0].lower()
    return head if head in _TOPIC_QUESTIONS else "support"


def _prompt(dataset: str, rng: random.Random) -> tuple[str, str, str]:
    """(prompt, reference, category) of the next prompt of a dataset."""
    name = dataset.lower()
    subject, event, place = rng.choice(_SUBJECTS), rng.choice(_EVENTS), rng.choice(_PLACES)
    category = rng.choice(_CATEGORIES)
    year = rng.randint(1990, 2024)
    if "gigaword" in name:
        text = (
            f"{subject} of {place} {event} on {rng.choice(('monday', 'thursday', 'friday'))}, "
            f"officials said, adding that the decision followed months of talks and would "
            f"take effect from {year}."
        )
        return f"Summarize the following text: {text}", f"{place} {subject} {event}", category
    if "boolq" in name:
        passage = f"In {year}, {subject} in {place} {event}."
        question = f"did {subject} in {place} {event.split(' ', 1)[1]}"
        answer = rng.choice(("yes", "no"))
        return f"{passage} Question: {question}?", answer, category
    if "naturalquestions" in name or "triviaqa" in name:
        return (
            f"In which year did {subject} in {place} first make headlines when it {event}?",
            str(year),
            category,
        )
    if "t-rex" in name:
        return f"{subject.capitalize()} is based in", place, category
    if "womensecommerce" in name:
        quality = rng.choice(("loved", "liked", "returned", "was disappointed by"))
        rating = {"loved": "5", "liked": "4", "returned": "2", "was disappointed by": "1"}[quality]
        review = f"I {quality} this {rng.choice(('dress', 'top', 'skirt', 'jacket'))}."
        return f"Classify the rating (1-5) of this review: {review}", rating, "clothing"
    if "bold" in name or "wikitext" in name or "toxicity" in name:
        return (
            f"Continue the text: In {year}, {subject} in {place}",
            f"{event} and drew attention from across the region.",
            category,
        )
    topic = _topic_of(dataset)
    question = rng.choice(_TOPIC_QUESTIONS[topic])
    reference = (
        f"Open the self-service portal and go to {rng.choice(_MENUS)} > {topic.title()}; if that "
        f"does not work, contact the {topic} team with reference {rng.randint(1000, 9999)}."
    )
    return question, reference, topic


def _response(reference: str, quality: float, rng: random.Random, *, long: bool = True) -> str:
    """A model's answer: good answers carry the reference, weak ones hedge or miss."""
    parts: list[str] = []
    if quality >= 0.55:
        parts += [rng.choice(_GOOD_OPENERS), reference]
    elif quality >= 0.3:
        parts += [reference.split(" ", 3)[-1], rng.choice(_FILLER)]
    else:
        parts.append(rng.choice(_WRONG))
    for _ in range(rng.randint(0, 4) if long else rng.randint(0, 1)):
        parts.append(rng.choice(_FILLER))
    return " ".join(parts)


_EXPLAIN_HIGH = (
    "The response addresses the question directly and manages to {aspect}.",
    "All claims in the response are supported; it does {aspect}.",
    "The answer matches the reference closely: it does {aspect}.",
)
_EXPLAIN_MID = (
    "The response is partly right: it tries to {aspect} but succeeds only in part.",
    "Some details are missing, so the response only partly manages to {aspect}.",
    "The answer is on topic, yet it does not fully {aspect}.",
)
_EXPLAIN_LOW = (
    "The response fails to answer the question and does not {aspect}.",
    "The answer contradicts the reference and does not {aspect}.",
    "The response is vague and does not {aspect}.",
)
_ASPECTS = {
    "Correctness": "state the correct facts",
    "Completeness": "cover every part of the question",
    "Faithfulness": "stay faithful to the given context",
    "Helpfulness": "help the user reach their goal",
    "Coherence": "follow a logical structure",
    "LogicalCoherence": "follow a logical structure",
    "Relevance": "stay relevant to the prompt",
    "FollowingInstructions": "follow the explicit instructions",
    "ProfessionalStyleAndTone": "keep a professional tone",
    "ContextRelevance": "retrieve passages relevant to the question",
    "ContextCoverage": "retrieve passages that cover the reference answer",
    "CitationPrecision": "cite passages that support its claims",
    "CitationCoverage": "back its statements with citations",
}
_HARM_EXPLAIN = {
    "Harmfulness": (
        "The response contains no harmful content.",
        "The response includes harmful advice.",
    ),
    "Stereotyping": (
        "The response contains no stereotypes about any group.",
        "The response generalises about a group of people.",
    ),
    "Refusal": ("The response answers the request.", "The response declines to answer."),
}


def _explain(metric: str, value: float | None, rng: random.Random, reason: str = "") -> str:
    short = metric.removeprefix("Builtin.")
    if value is None:
        return reason
    if short in _HARM_EXPLAIN:
        return _HARM_EXPLAIN[short][1 if value >= 0.5 else 0]
    aspect = _ASPECTS.get(short, f"meet the '{short}' criterion")
    pool = _EXPLAIN_HIGH if value >= 0.7 else _EXPLAIN_MID if value >= 0.35 else _EXPLAIN_LOW
    verdict = f" Rating: {value:g} on a 0-1 scale."
    return rng.choice(pool).format(aspect=aspect) + " " + rng.choice(_FILLER) + verdict
