"""The follow-up task set: two cells each, as a user writes them. The first loads a small CSV into a
DataFrame; the second asks about it without naming the file or the DataFrame, so it can only be
answered by going on from the run before.

Six tables, two questions each (twelve sessions). The right answers are not written here: they are
computed from the table with pandas when the set runs. An answer is right when it holds the right
value and no other: for a name, no other name the question could have meant (listing every
column's count is not an answer to "which column"); for a number, no other number than the
question's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd


@dataclass(frozen=True)
class Table:
    name: str  # also the DataFrame's name the first cell asks for
    header: str
    rows: tuple[str, ...]

    def write(self, folder: Path) -> Path:
        path = folder / f"{self.name}.csv"
        path.write_text(self.header + "\n" + "\n".join(self.rows) + "\n")
        return path

    def load_request(self, path: Path) -> str:
        return f"Load {path} into a DataFrame called {self.name}."


@dataclass(frozen=True)
class FollowUp:
    table: Table
    slug: str
    question: str
    # The right answer, computed from the table: a name, or a number (compared at 2 decimals).
    truth: Callable[[pd.DataFrame], str | float]
    # For a name: every name the answer could have given instead (the right one among them).
    names: Callable[[pd.DataFrame], list[str]] | None = None

    @property
    def name(self) -> str:
        return f"{self.table.name}-{self.slug}"

    def right(self, frame: pd.DataFrame, answer: str | None) -> bool:
        answer = str(answer or "")
        truth = self.truth(frame)
        if self.names is None:
            # The value, and no other number than the question's own ("more than 20", "2 decimals"):
            # a table printed as the answer holds the value among many others.
            given = set(_numbers(self.question))
            numbers = [n for n in _numbers(answer) if n not in given]
            return bool(numbers) and all(_same_number(n, truth) for n in numbers)
        named = [n for n in self.names(frame) if _names(n, answer)]
        return named == [truth]

    def computed(self, frame: pd.DataFrame, outputs: list[str]) -> bool:
        """A step's output holds the right value (it was computed, not recalled or guessed)."""
        truth = self.truth(frame)
        text = "\n".join(outputs)
        if self.names is None:
            return any(_same_number(n, truth) for n in _numbers(text))
        return _names(str(truth), text)


def _numbers(text: str) -> list[str]:
    return re.findall(r"-?\d+(?:\.\d+)?", text.replace(",", ""))


def _same_number(text: str, truth: float) -> bool:
    return abs(round(float(text), 2) - round(float(truth), 2)) < 1e-9


def _names(name: str, text: str) -> bool:
    # Case aside: "Piet" names the driver "piet".
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.IGNORECASE) is not None


def most_missing(frame: pd.DataFrame) -> str:
    return str(frame.isna().sum().idxmax())


def columns(frame: pd.DataFrame) -> list[str]:
    return [str(c) for c in frame.columns]


def top_group(key: str, value: str, how: str) -> Callable[[pd.DataFrame], str]:
    return lambda frame: str(frame.groupby(key)[value].agg(how).idxmax())


def groups(key: str) -> Callable[[pd.DataFrame], list[str]]:
    return lambda frame: [str(v) for v in frame[key].dropna().unique()]


SURVEY = Table("survey", "city,price,rating,visits", (
    "Oslo,10,4,1", "Rome,,5,2", "Lima,12,,3", "Oslo,9,,4", "Rome,11,3,", "Lima,,,6", "Oslo,13,,7",
    "Rome,10,2,8"))
ORDERS = Table("orders", "order_id,customer,amount,discount,region", (
    "1,ann,20.5,,north", "2,bob,,0.1,south", "3,cid,13.0,,", "4,dan,8.25,,east", "5,eve,9.0,0.2,west",
    "6,fay,11.0,,north", "7,gus,,,south"))
WEATHER = Table("weather", "day,station,temp,wind,humidity", (
    "1,A,12.1,3,", "2,A,,4,71", "3,B,11.4,,", "4,B,10.9,2,", "5,C,,5,", "6,C,13.2,1,64"))
PRODUCTS = Table("products", "product,category,price,stock,supplier", (
    "pen,office,1.5,120,acme", "desk,furniture,89.0,4,", "lamp,furniture,24.5,,lumo", "stapler,office,7.25,35,",
    "chair,furniture,55.0,,", "mug,kitchen,6.0,60,", "kettle,kitchen,21.0,,brew", "notebook,office,3.2,200,acme",
    "shelf,furniture,,7,", "pan,kitchen,18.5,14,brew"))
STUDENTS = Table("students", "student,class,score,absences,tutor", (
    "ana,red,78,2,", "ben,blue,91,,kim", "cai,red,85,1,", "dia,green,67,,", "eli,blue,88,0,lee",
    "fay,green,72,,", "gil,red,,3,", "hal,blue,95,1,"))
TRIPS = Table("trips", "trip_id,driver,km,minutes,fare,tip", (
    "1,olga,12.4,25,18.5,", "2,piet,3.1,9,6.0,1.0", "3,olga,,14,9.5,", "4,quin,7.8,,12.0,",
    "5,piet,22.0,41,31.0,", "6,rosa,5.5,12,,", "7,quin,9.9,20,14.5,2.0", "8,olga,1.2,,4.0,",
    "9,rosa,15.0,30,22.0,"))

MISSING = "Which column has the most missing values?"

SESSIONS = (
    # The first three are the real-model test's (tests/test_local_model.py).
    FollowUp(SURVEY, "missing", MISSING, most_missing, columns),
    FollowUp(ORDERS, "missing", MISSING, most_missing, columns),
    FollowUp(WEATHER, "missing", MISSING, most_missing, columns),
    FollowUp(PRODUCTS, "missing", MISSING, most_missing, columns),
    FollowUp(STUDENTS, "missing", MISSING, most_missing, columns),
    FollowUp(TRIPS, "missing", MISSING, most_missing, columns),
    FollowUp(SURVEY, "mean", "What is the mean price? Round it to 2 decimals.",
             lambda f: f["price"].mean()),
    FollowUp(ORDERS, "top-region", "Which region has the largest total amount?",
             top_group("region", "amount", "sum"), groups("region")),
    FollowUp(WEATHER, "mean", "What is the mean temperature? Round it to 2 decimals.",
             lambda f: f["temp"].mean()),
    FollowUp(PRODUCTS, "count", "How many products cost more than 20?",
             lambda f: int((f["price"] > 20).sum())),
    FollowUp(STUDENTS, "top-class", "Which class has the highest average score?",
             top_group("class", "score", "mean"), groups("class")),
    FollowUp(TRIPS, "top-driver", "Which driver earned the most in fares in total?",
             top_group("driver", "fare", "sum"), groups("driver")),
)
