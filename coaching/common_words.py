"""Common English words, lower case: what a capitalized word in a transcript is not, when
the redactor looks for a name ("Sure, it's Maria", "Yes. Lopez."). Sentence starts,
greetings, days and months, titles, card brands and the words of a call.
"""

from __future__ import annotations

__all__ = ["COMMON_WORDS"]

COMMON_WORDS: frozenset[str] = frozenset("""
a about above after again against ago ah ahead all almost already alright also although
always am an and another any anybody anyone anything anyway anywhere are aren't around as
ask asked at away back bad be because been before behind being below best better between
bill billing both but by bye call called calling calls came can can't cannot card cards
case cause certainly charge charged check checking could couldn't day days dear did didn't
do does doesn't doing don't done down during each either else email enough even ever
every everything exactly excuse fine first for from full gave get gets getting give given
go goes going gone good got great had hadn't happy has hasn't have haven't having he he'd
he'll he's hello help her here here's hers hey hi him his hold how however i i'd i'll
i'm i've if in indeed into is isn't it it'd it'll it's its just kind know last later
let let's like little long look looking lot made make many may maybe me mean might mine
more morning most much must my myself name name's names need never new next nice no nope
nor not nothing now number of off oh ok okay on once one only or other our ours out over
own part perfect please pretty problem quick quite rather really right said same say says
second see she she'd she'll she's should shouldn't since so some somebody someone something
sorry speaking spell spelled spelt still such sure surname take tell than thank thanks that
that'll that's the their theirs them then there there's these they they'd they'll they're
they've thing things think this those though through to today together tomorrow tonight
too two uh uh-huh um under until up upon us use used very wait want wanted was wasn't way
we we'd we'll we're we've well went were weren't what what's when where which while who
who's whole whom whose why will with without won't would wouldn't yeah yep yes yesterday
yet you you'd you'll you're you've your yours yourself
monday tuesday wednesday thursday friday saturday sunday weekend
january february march april may june july august september october november december
mr mrs ms miss mister missus dr doctor sir madam maam ma'am mam
visa mastercard amex american express discover paypal
account address apartment street road avenue lane drive city state zip code postcode
first middle last maiden family given legal full
customer support service team department manager agent company
morning afternoon evening night
english spanish america american british canada
second seconds minute minutes hour hours week weeks month months year years dollars
dollar cents pounds euros percent times business working
""".split())
