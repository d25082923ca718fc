"""Cases for the reader's second pass (issue 9): the shapes players really use.

Written from how quest threads on SpaceBattles, Sufficient Velocity and
alternatehistory.com vote and chat (paraphrased, never copied), against the
fixture vote in helpers.py: 1 single A/B, 2 single Yes/No, 3 write-in,
4 multi A-D, 5 ranked A-C (Kiev, Minsk, Riga).

Expectations use helpers.check()'s syntax: "B", "AD", "C>A>B", "~phrase"
(write-in), "flag" (held back for that prompt), {"*": "flag"} (whole post held
back), {} (chatter: no answers and nothing held). A firm answer is written only
where a moderator would never doubt it; otherwise "flag".

Tables of posts read on their own are (body, expected); tables of posts that
point at other posts are (body, earlier, expected), `earlier` being the thread
before the post, oldest first (the last one is the post directly above).
"""

from .helpers import QM, VOTE, post

FLAG = "flag"
WHOLE = {"*": FLAG}


def _vote_block() -> str:
    """The quest master's vote post, as the players see it."""
    parts = []
    for prompt in VOTE.prompts:
        lines = [f"{prompt.number}. {prompt.text}"]
        lines += [f"{o.letter}) {o.text}" for o in prompt.options]
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


VOTE_BLOCK = _vote_block()
QUOTED_VOTE = f'[QUOTE="{QM}, post: 100"]{VOTE_BLOCK}[/QUOTE]'

# -- the thread before the post ------------------------------------------

PROMPTS = post(VOTE_BLOCK, id=100, author=QM, hours=0)
ANYA = post("1-B\n2-A\n4-A, D\n5-C>A>B", id=201, author="Anya", hours=0.5)
BORIS = post("1-A\n2-B\n3-Build the Riga metro first\n4-B", id=202, author="Boris", hours=0.6)
VERA = post("1-B\n2-B\n4-C", id=203, author="Vera Koval", hours=0.7)
DMITRI = post("Great update! The funeral scene was grim.", id=204, author="Dmitri", hours=0.8)
ALEXEI_K = post("1-A\n2-A", id=205, author="Alexei_K", hours=0.85)
ALEXEI_P = post("1-B\n2-B", id=206, author="Alexei_P", hours=0.86)
QM_NOTE = post("Votes close Tuesday evening, keep them coming!", id=207, author=QM, hours=0.9)

ANYA_VOTE = {1: "B", 2: "A", 4: "AD", 5: "C>A>B"}
BORIS_VOTE = {1: "A", 2: "B", 3: "~Riga metro", 4: "B"}
VERA_VOTE = {1: "B", 2: "B", 4: "C"}

THREAD = (PROMPTS, ANYA, BORIS, VERA, DMITRI)  # chatter directly above
TWO_ALEXEIS = (*THREAD, ALEXEI_K, ALEXEI_P)
ANYA_ABOVE = (PROMPTS, BORIS, VERA, ANYA)
BORIS_ABOVE = (PROMPTS, ANYA, VERA, BORIS)
CHATTER_ABOVE = (PROMPTS, ANYA, BORIS, DMITRI)
QM_ABOVE = (PROMPTS, ANYA, BORIS, QM_NOTE)

# -- agreement with a named or adjacent voter, no quote -------------------

AGREE_NAMED = [
    ("what Anya said", THREAD, ANYA_VOTE),
    ("What anya said.", THREAD, ANYA_VOTE),
    ("what @Anya said", THREAD, ANYA_VOTE),
    ("What ANYA said, word for word.", THREAD, ANYA_VOTE),
    ("What Anya said. Peace in Korea and more grain.", THREAD, ANYA_VOTE),
    ("Seconding Boris's vote", THREAD, BORIS_VOTE),
    ("seconding @boris's vote.", THREAD, BORIS_VOTE),
    ("Seconding Boris' vote, he's right about the metro.", THREAD, BORIS_VOTE),
    ("+1 to Anya", THREAD, ANYA_VOTE),
    ("+1 to @anya", THREAD, ANYA_VOTE),
    ("+1 to Vera Koval's vote", THREAD, VERA_VOTE),
    ("I'm with @anya", THREAD, ANYA_VOTE),
    ("I'm with Boris on this one.", THREAD, BORIS_VOTE),
    ("im with boris", THREAD, BORIS_VOTE),
    ("same as Anya", THREAD, ANYA_VOTE),
    ("Same as anya.", THREAD, ANYA_VOTE),
    ("Same as Vera Koval", THREAD, VERA_VOTE),
    ("same as @vera koval", THREAD, VERA_VOTE),
    ("what Vera Koval said", THREAD, VERA_VOTE),
    ("Voting the same as Boris.", THREAD, BORIS_VOTE),
    ("Ditto @Anya", THREAD, ANYA_VOTE),
    ("Backing Anya's vote.", THREAD, ANYA_VOTE),
    ("I agree with Boris's vote.", THREAD, BORIS_VOTE),
    ("Copying Anya's ballot.", THREAD, ANYA_VOTE),
    ("Same vote as Vera Koval.", THREAD, VERA_VOTE),
]

AGREE_AMENDED = [  # the copied ballot, with the changes that follow it
    ("what Anya said but 2-B", THREAD, {**ANYA_VOTE, 2: "B"}),
    ("what Anya said but 2-B, the war isn't won yet", THREAD, {**ANYA_VOTE, 2: "B"}),
    ("Seconding Boris's vote, except 4-AD", THREAD, {**BORIS_VOTE, 4: "AD"}),
    ("same as Anya except 2-B and 5-A>B>C", THREAD, {**ANYA_VOTE, 2: "B", 5: "A>B>C"}),
    ("+1 to Anya, but 1-A", THREAD, {**ANYA_VOTE, 1: "A"}),
    ("I'm with Anya, but 4 bd", THREAD, {**ANYA_VOTE, 4: "BD"}),
    (
        "Same as @Vera Koval but 3-More tractors for the farms",
        THREAD,
        {**VERA_VOTE, 3: "~More tractors"},
    ),
    ("What Boris said, except 2-a.", THREAD, {**BORIS_VOTE, 2: "A"}),
    ("same as anya except 4-c", THREAD, {**ANYA_VOTE, 4: "C"}),
    ("Same as Boris\n1-B", THREAD, {**BORIS_VOTE, 1: "B"}),
]

AGREE_ADJACENT = [  # "^" and "above": the post directly above holds a ballot
    ("^ this", ANYA_ABOVE, ANYA_VOTE),
    ("^", ANYA_ABOVE, ANYA_VOTE),
    ("^This.", ANYA_ABOVE, ANYA_VOTE),
    ("same as above", ANYA_ABOVE, ANYA_VOTE),
    ("Same as above.", ANYA_ABOVE, ANYA_VOTE),
    ("^ What they said.", ANYA_ABOVE, ANYA_VOTE),
    ("Agree with the above.", ANYA_ABOVE, ANYA_VOTE),
    ("Same as the post above.", ANYA_ABOVE, ANYA_VOTE),
    ("^ this. Riga first, always.", ANYA_ABOVE, ANYA_VOTE),
    ("Same as above but 2-B", ANYA_ABOVE, {**ANYA_VOTE, 2: "B"}),
    ("^ this, except 4-A", ANYA_ABOVE, {**ANYA_VOTE, 4: "A"}),
    ("^ This\n2-B", ANYA_ABOVE, {**ANYA_VOTE, 2: "B"}),
    ("^ this", BORIS_ABOVE, BORIS_VOTE),
    ("same as above", BORIS_ABOVE, BORIS_VOTE),
]

AGREE_HELD = [  # a name that matches no voter with a ballot, or more than one
    ("what Yuri said", THREAD, WHOLE),
    ("same as Yuri", THREAD, WHOLE),
    ("+1 to @Nobody", THREAD, WHOLE),
    ("Same as Ayna", THREAD, WHOLE),
    ("Seconding Alexei's vote", TWO_ALEXEIS, WHOLE),
    ("I'm with Dmitri", THREAD, WHOLE),
    ("what panpiotr said", THREAD, WHOLE),
    ("same as Anya or Boris, whichever wins", THREAD, WHOLE),
    ("what Anya said, mostly", THREAD, WHOLE),
    ("^ this", CHATTER_ABOVE, WHOLE),
    ("same as above", CHATTER_ABOVE, WHOLE),
    ("^ this", QM_ABOVE, WHOLE),
    # A bare agreement right under a ballot, quoting and naming no one: held, not guessed.
    ("+1", ANYA_ABOVE, WHOLE),
    ("Ditto.", ANYA_ABOVE, WHOLE),
    ("Same.", BORIS_ABOVE, WHOLE),
    ("Seconded!", ANYA_ABOVE, WHOLE),
    ("This.", ANYA_ABOVE, WHOLE),
]

# -- endorsements under a quote, with commentary --------------------------

Q_ANYA = '[QUOTE="Anya, post: 201"]1-B\n2-A\n4-A, D\n5-C>A>B[/QUOTE]\n'
Q_ANYA_BY_NAME = "[QUOTE=Anya]1-B\n2-A\n4-A, D\n5-C>A>B[/QUOTE]\n"
Q_BORIS = '[QUOTE="Boris, post: 202"]1-A\n2-B\n3-Build the Riga metro first\n4-B[/QUOTE]\n'
Q_VERA = '[QUOTE="Vera Koval, post: 203"]1-B\n2-B\n4-C[/QUOTE]\n'

ENDORSE_WITH_COMMENT = [
    (Q_ANYA + "I second this. Grain is life.", THREAD, ANYA_VOTE),
    (Q_ANYA + "+1, good plan", THREAD, ANYA_VOTE),
    (Q_ANYA + "Agreed - the farms matter more than the navy.", THREAD, ANYA_VOTE),
    (Q_ANYA + "Seconded! Best plan so far.", THREAD, ANYA_VOTE),
    (Q_ANYA + "This, 100%.", THREAD, ANYA_VOTE),
    (Q_ANYA + "Same here, couldn't have put it better.", THREAD, ANYA_VOTE),
    (Q_ANYA + "Thirded. Riga first makes sense.", THREAD, ANYA_VOTE),
    (Q_ANYA + "Fully agree, well argued.", THREAD, ANYA_VOTE),
    (Q_ANYA + "I support this plan, Korea has cost us enough.", THREAD, ANYA_VOTE),
    (Q_ANYA + "+1\nPeace in Korea is overdue and the farms need the money.", THREAD, ANYA_VOTE),
    (Q_ANYA + "Co-signed. The traitors had it coming.", THREAD, ANYA_VOTE),
    (Q_ANYA + "Yep, this. Tank factories pay for themselves.", THREAD, ANYA_VOTE),
    (Q_ANYA + "Agreed. Also, great chapter, the funeral scene was grim.", THREAD, ANYA_VOTE),
    (Q_ANYA + "[B]+1[/B] Solid.", THREAD, ANYA_VOTE),
    (Q_ANYA + "agreed, good stuff", THREAD, ANYA_VOTE),
    (Q_ANYA_BY_NAME + "+1, good plan", THREAD, ANYA_VOTE),
    (Q_BORIS + "Seconded, the metro is a great idea.", THREAD, BORIS_VOTE),
    (Q_BORIS + "+1 - Boris has the right idea.", THREAD, BORIS_VOTE),
    (Q_VERA + "This. Vera gets it.", THREAD, VERA_VOTE),
    (Q_ANYA + "Agreed, except 2-B, Korea isn't done.", THREAD, {**ANYA_VOTE, 2: "B"}),
    (Q_ANYA + "I second this, but 4-A only. Farms can wait.", THREAD, {**ANYA_VOTE, 4: "A"}),
]

# -- an endorsement copies what the endorser saw --------------------------

# Anya's ballot as quoted, then edited after the endorsement (hour 2); no revision stored.
ANYA_EDITED = post("1-A\n2-B", id=201, author="Anya", hours=0.5, edited_hours=4)
ANYA_WITHDRAWN = post("nvm, sitting this one out", id=201, author="Anya", hours=0.5, edited_hours=4)
ANYA_EDITED_EARLY = post("1-A\n2-B", id=201, author="Anya", hours=0.5, edited_hours=1.5)
ANYA_REVISED = post(
    "1-A\n2-B",
    id=201,
    author="Anya",
    hours=0.5,
    edited_hours=4,
    revisions=(("1-B\n2-A\n4-A, D\n5-C>A>B", 4),),
)
BORIS_EDITED = post("1-B\n2-B", id=202, author="Boris", hours=0.6, edited_hours=4)
DMITRI_EDITED = post("Great update!\n\n1-A 2-A", id=204, author="Dmitri", hours=0.8, edited_hours=4)

EDITED = (PROMPTS, ANYA_EDITED, BORIS, VERA, DMITRI)

ENDORSER_SAW = [
    (Q_ANYA + "+1", EDITED, ANYA_VOTE),
    (Q_ANYA + "I second this. Grain is life.", EDITED, ANYA_VOTE),
    (Q_ANYA_BY_NAME + "Same", EDITED, ANYA_VOTE),
    (Q_ANYA_BY_NAME + "Seconded, good plan.", EDITED, ANYA_VOTE),
    (Q_ANYA + "Agreed, except 2-B", EDITED, {**ANYA_VOTE, 2: "B"}),
    (Q_ANYA + "+1", (PROMPTS, ANYA_WITHDRAWN, BORIS), ANYA_VOTE),
    (Q_ANYA + "+1", (PROMPTS, ANYA_REVISED, BORIS), ANYA_VOTE),
    # Edited before the endorsement: the quote shows what the endorser saw, old or new.
    (Q_ANYA + "+1", (PROMPTS, ANYA_EDITED_EARLY), ANYA_VOTE),
    (
        '[QUOTE="Anya, post: 201"]1-A\n2-B[/QUOTE]\n+1',
        (PROMPTS, ANYA_EDITED_EARLY),
        {1: "A", 2: "B"},
    ),
    (Q_BORIS + "Seconded.", (PROMPTS, ANYA, BORIS_EDITED), BORIS_VOTE),
    # The quoted text held no ballot: a ballot added later was never endorsed.
    ('[QUOTE="Dmitri, post: 204"]Great update![/QUOTE]\n+1', (PROMPTS, DMITRI_EDITED), WHOLE),
]

# -- in-post changes of mind: the later answer replaces the earlier -------

CHANGES_OF_MIND = [
    ("1-A\nscratch that, 1-B", {1: "B"}),
    ("1-A 2-A\nscratch that, 2-B", {1: "A", 2: "B"}),
    ("1-A\nScratch that: 1-B\n2-A", {1: "B", 2: "A"}),
    ("1-A\nactually, 1-B", {1: "B"}),
    ("1-a\nactually 1-b", {1: "B"}),
    ("1-A\non second thought 1-B", {1: "B"}),
    ("1-A 2-B\n\nOn second thought, 2-A. Peace is worth it.", {1: "A", 2: "A"}),
    ("1-A\nwait, make that 1-B", {1: "B"}),
    ("1b\nwait no, 1a", {1: "A"}),
    ("1-A. No wait, 1-B.", {1: "B"}),
    ("1-A... hmm, no. 1-B", {1: "B"}),
    ("1-A\nactually no, B", {1: "B"}),
    ("Going 1-A. Scratch that, 1-B, they betrayed us once already.", {1: "B"}),
    ("I vote 1-A\nNevermind, 1-B", {1: "B"}),
    ("1-A\nEdit: on reflection, 1-B", {1: "B"}),
    ("1-A\n2-A\n\nOk changed my mind on 1, going B", {1: "B", 2: "A"}),
    ("4-AC\nscratch that, make it 4-BD", {4: "BD"}),
    ("5: A>B>C\nActually, 5: C>A>B", {5: "C>A>B"}),
    ("[S]1-A[/S] 1-B", {1: "B"}),
    ("1-[S]A[/S] B", {1: "B"}),
    ("4-[S]AC[/S] BD", {4: "BD"}),
    ("2: [S]Yes[/S] No", {2: "B"}),
    ("1-B\n[S]2-B[/S] 2-A", {1: "B", 2: "A"}),
]

# -- letters in any case, compact multi and ranked forms, option lines ----

Q_PROMPT_1 = f"[QUOTE={QM}]1. Decide the fate of the agents who betrayed Beria.[/QUOTE]\n"
Q_PROMPT_4 = f"[QUOTE={QM}]4. Which industries get new funding? Choose any.[/QUOTE]\n"
Q_PROMPT_5 = f"[QUOTE={QM}]5. Rank the cities for the new metro lines.[/QUOTE]\n"

COMPACT = [
    ("4bd", {4: "BD"}),
    ("4 bd", {4: "BD"}),
    ("4-ac", {4: "AC"}),
    ("4b,d", {4: "BD"}),
    ("4: b/d", {4: "BD"}),
    ("4 - b & d", {4: "BD"}),
    ("4 a c", {4: "AC"}),
    ("[b]4bd[/b]", {4: "BD"}),
    ("2b 4 acd", {2: "B", 4: "ACD"}),
    ("1 B\n4 B D", {1: "B", 4: "BD"}),
    ("A, D on 4", {4: "AD"}),
    ("B and D on 4", {4: "BD"}),
    ("b, d for 4", {4: "BD"}),
    ("4: b, c - the tanks pay for themselves", {4: "BC"}),
    ("4: ad, the farms feed the tank crews", {4: "AD"}),
    ("5 cab", {5: "C>A>B"}),
    ("5: c > a > b", {5: "C>A>B"}),
    ("5 - c, a, b", {5: "C>A>B"}),
    ("5bca", {5: "B>C>A"}),
    ("5: riga > kiev > minsk", {5: "C>A>B"}),
    ("1b 2a 4bd 5cab", {1: "B", 2: "A", 4: "BD", 5: "C>A>B"}),
    ("1B 2A 4BD 5CAB", {1: "B", 2: "A", 4: "BD", 5: "C>A>B"}),
    ("1b, 2a, 4bd", {1: "B", 2: "A", 4: "BD"}),
    ("1b / 2a / 4ad", {1: "B", 2: "A", 4: "AD"}),
    ("1-B 2-a 4-b,d 5-c,a,b", {1: "B", 2: "A", 4: "BD", 5: "C>A>B"}),
    ("1. b\n2. a\n4. b, d", {1: "B", 2: "A", 4: "BD"}),
    ("1)b 2)a", {1: "B", 2: "A"}),
    ("1b 4bd 3 Steel Horse", {1: "B", 3: "~Steel Horse", 4: "BD"}),
    ("I vote B on 1 and A, D on 4", {1: "B", 4: "AD"}),
    ("I vote b on 1, a on 2 and a, d on 4", {1: "B", 2: "A", 4: "AD"}),
    ("B on 1, A on 2", {1: "B", 2: "A"}),
    ("b for 1, a for 2", {1: "B", 2: "A"}),
    (Q_PROMPT_4 + "B) Shipyards and D) Collective farms", {4: "BD"}),
    (Q_PROMPT_4 + "B) Shipyards\nD) Collective farms", {4: "BD"}),
    (Q_PROMPT_4 + "b, d", {4: "BD"}),
    ("4 - B) Shipyards, D) Collective farms", {4: "BD"}),
    ("4. Tank factories, collective farms", {4: "AD"}),
    (Q_PROMPT_1 + "b) punish them", {1: "B"}),
    (Q_PROMPT_5 + "C) Riga\nA) Kiev\nB) Minsk", {5: "C>A>B"}),
]

# -- a copied vote block with the chosen option marked --------------------

BOLD, RED, UNDER = "[B]{}[/B]", "[COLOR=red]{}[/COLOR]", "[U]{}[/U]"
BOX, TICKED = "[ ] {}", "[X] {}"
ARROW, THIS = "{} <-", "{} (this)"


def copied(number: int, prompt: str = "{}", default: str = "{}", **marks: str) -> str:
    """Prompt `number` of the vote copied into a post, options formatted by `marks`."""
    spec = VOTE.prompt(number)
    lines = [prompt.format(f"{number}. {spec.text}")]
    lines += [marks.get(o.letter, default).format(f"{o.letter}) {o.text}") for o in spec.options]
    return "\n".join(lines)


MARKED_BLOCKS = [
    (copied(1, B=BOLD), {1: "B"}),
    (copied(1, B=RED), {1: "B"}),
    (copied(1, B=UNDER), {1: "B"}),
    (copied(1, default=BOX, B=TICKED), {1: "B"}),
    (copied(1, prompt=BOLD, default=BOX, B=TICKED), {1: "B"}),
    (copied(1, B=ARROW), {1: "B"}),
    (copied(1, A=THIS), {1: "A"}),
    (copied(1, A="{} <-- this one"), {1: "A"}),
    (copied(1, B="{} (this one)"), {1: "B"}),
    (copied(1, B=RED) + "\n\nThey had their chance.", {1: "B"}),
    (copied(2, B=BOLD), {2: "B"}),
    (copied(2, A="[COLOR=#ff0000]{}[/COLOR]"), {2: "A"}),
    (copied(2, default="[ ] {}", B="[x] {}"), {2: "B"}),
    (copied(2, A="{} <- this"), {2: "A"}),
    (copied(2, B="[B][COLOR=red]{}[/COLOR][/B]"), {2: "B"}),
    (copied(4, B=BOLD, D=BOLD), {4: "BD"}),
    (copied(4, default=BOX, A=TICKED, C=TICKED), {4: "AC"}),
    (copied(4, B=ARROW, D=ARROW), {4: "BD"}),
    (copied(4, C=RED), {4: "C"}),
    (
        copied(1, B=BOLD) + "\n\n" + copied(2, A=BOLD) + "\n\n" + copied(4, A=BOLD, D=BOLD),
        {1: "B", 2: "A", 4: "AD"},
    ),
    (copied(1, A=BOLD, B=BOLD), {1: FLAG}),  # two marks on a one-answer prompt
]

# -- declared ballots in sentences ----------------------------------------

DECLARED = [
    ("Fine, real vote: 1-B 2-A", {1: "B", 2: "A"}),
    ("ok my vote: 1a 2b", {1: "A", 2: "B"}),
    ("Alright, here's my vote: 1-B, 2-A, 4-BD", {1: "B", 2: "A", 4: "BD"}),
    ("ok ok, official vote: 1b 2a", {1: "B", 2: "A"}),
    ("Putting my vote in: 1-A 2-B", {1: "A", 2: "B"}),
    ("After much thought, my ballot is 1-B 2-B", {1: "B", 2: "B"}),
    ("Vote is 1b 2a 4ad", {1: "B", 2: "A", 4: "AD"}),
    ("My final vote: 1-B, 2-A", {1: "B", 2: "A"}),
    ("Fine, I'll bite: 1-B", {1: "B"}),
    ("Count me in for 1-B and 2-A.", {1: "B", 2: "A"}),
    ("Put me down for 1-B 2-A", {1: "B", 2: "A"}),
    ("Locking in 1-B, 2-A.", {1: "B", 2: "A"}),
    ("Casting my vote for 1-B.", {1: "B"}),
    ("Voting 1b 2a 5cab", {1: "B", 2: "A", 5: "C>A>B"}),
    ("I'll go 1-B 2-A, peace and punishment.", {1: "B", 2: "A"}),
    ("Ballot: 1-B / 2-A", {1: "B", 2: "A"}),
    ("Ok, so for the record: 1-B, 2-A.", {1: "B", 2: "A"}),
    ("my vote's 1b 2b", {1: "B", 2: "B"}),
    ("Here's mine: 1-A, 2-A, 4-C", {1: "A", 2: "A", 4: "C"}),
    (
        "Long post incoming, sorry.\n\nThe purge arc was great and I think the Americans are "
        "bluffing.\n\nAnyway. Real vote: 1-B 2-A 4-AD",
        {1: "B", 2: "A", 4: "AD"},
    ),
]

# -- negative: chatter that names options, voters or numbers --------------

CHATTER = [
    ("B seems risky, the army won't like it.", {}),
    ("We keep 1/2 of the grain and 24/7 patrols on the border.", {}),
    ("Option A on the first one would make the army angry.", {}),
    ("Plan B for Korea never works in these quests.", {}),
    ("Team B did a better job on the map.", {}),
    ("2 more turns until the plenum.", {}),
    ("In 1953 the harvest failed in 4 oblasts.", {}),
    ("We have 4 turns left before the plenum and 5 divisions still in Korea.", {}),
    ("In 1953 Beria had 1.5 million people in the camps.", {}),
    ("2 million tons of grain won't last the winter.", {}),
    ("2-3 turns, maybe 4 if the harvest fails.", {}),
    ("The 1-2 punch of the purge and the famine was brutal.", {}),
    ("5 B-29s went down over Korea that week.", {}),
    ("1 in 4 prisoners never made it home.", {}),
    ("Kiev got 3 new tram lines in 1952 OTL.", {}),
    ("The 4th Guards Tank Army is still in Hungary, right?", {}),
    ("Typo in the update: it says 1952 instead of 1953.", {}),
    ("Chapter 2: A new dawn was the best one so far.", {}),
    ("Just caught up, 40 pages in 2 days!", {}),
    ("Page 5, post 3 has the map.", {}),
    ("Part 1 of the update was better than part 2.", {}),
    ("We're 3 for 3 on disastrous purges now.", {}),
    ("Nice, 1 step closer to the bomb.", {}),
    ("lol 10/10 chapter", {}),
    ("Looking forward to 3 more chapters of this.", {}),
    ("A lot of people died in 1953.", {}),
    ("The Riga metro was never built in OTL, fun fact.", {}),
    ("Tank factories in Kharkov were rebuilt by 1947.", {}),
    ("Kiev, Minsk and Riga all had trams before the war.", {}),
    ("Minsk in 1953 was still mostly rubble.", {}),
    ("The tanks are expensive and the ships even more so.", {}),
    ("Leniency worked out great for Khrushchev in OTL, lol.", {}),
    ("The agents who betrayed Beria deserve a story of their own.", {}),
    ("Who is Beria again? I lost track.", {}),
    ("Yes, the update was long, but worth it.", {}),
    ("No, I don't think the Americans have enough bombers for that.", {}),
    ("Great update! Can't wait for chapter 3.", {}),
    ("This chapter was great.", {}),
    ("+1 for the map, it helps a lot.", {}),
    ("I miss the old maps. 1950s Moscow looked great in them.", {}),
    ("Sorry for the double post.", {}),
    ("Can we get a map of Korea in the next update?", {}),
    ("@panpiotr how many turns until the 5 year plan ends?", {}),
    ("@panpiotr does option D include the Virgin Lands?", {}),
    ("What does option C actually cost us?", {}),
    ("Question for the QM: do shipyards take 2 turns or 3 to build?", {}),
    ("How does the ranking work? Do we list all three cities?", {}),
    ("Is the metro even affordable with 3 shipyards being built?", {}),
]

CHATTER_IN_THREAD = [  # naming voters of the thread, who hold ballots
    ("Anya's plan costs a lot.", THREAD, {}),
    ("I agree the tanks are expensive.", THREAD, {}),
    ("Boris, your grain numbers are off by a factor of 2.", THREAD, {}),
    ("@Boris where did you get the grain numbers from?", THREAD, {}),
    ("Boris's metro idea is ambitious, but I doubt we have the money.", THREAD, {}),
    ("Anya, Boris: check page 4, the QM answered that.", THREAD, {}),
    ("Thanks Anya, that clears it up.", THREAD, {}),
    ("Dmitri has a point about the winter.", THREAD, {}),
    ("What the QM said about the winter worries me.", THREAD, {}),
    ("Same thing happened in my last quest, lol.", THREAD, {}),
    ("^ lol", CHATTER_ABOVE, {}),
    ("+1", CHATTER_ABOVE, {}),  # a reaction to chatter
    ("Agreed.", CHATTER_ABOVE, {}),
    (Q_ANYA + "I disagree, the farms are a waste of money.", THREAD, {}),
    (Q_ANYA + "Not sure about this one, the farms seem like a waste.", THREAD, {}),
]

# -- negative: held back for a moderator, never dropped -------------------

HELD = [
    ("B on 1 maybe? Not sure yet.", {1: FLAG}),
    ("Leaning 1-B but could be convinced otherwise.", {1: FLAG}),
    ("Is 1-B even legal under the party charter?", {1: FLAG}),
    ("Either 4-A or 4-B, can't decide.", {4: FLAG}),
    ("4-AB, maybe C too", {4: FLAG}),
    ("1-A or 1-B, whichever wins.", {1: FLAG}),
    ("1-A\nor maybe 1-B", {1: FLAG}),
    ("1b 2a\nor maybe 2b", {1: "B", 2: FLAG}),
    ("1-A\nscratch that", {1: FLAG}),
    ("Tank factories and shipyards, obviously.", {4: FLAG}),
    ("Riga, then Kiev, then Minsk.", {5: FLAG}),
    ("B", WHOLE),
    ("B and A", WHOLE),
    ("I vote B", WHOLE),
    ("switching to B", WHOLE),
    ("Switching my vote to A", WHOLE),
    ("1-B 2-A\n\nAlso 7-A if that's allowed", WHOLE),
    # The rest of a ballot in a shape too loose to read alone: held, never dropped.
    ("For 1 I'm going with B. 2 is A.", {1: "B", 2: FLAG}),
    ("1-B\n2 would be A", {1: "B", 2: FLAG}),
    ("1 A\n2 A\n3 Purge the remaining loyalists from the ministry", {1: "A", 2: "A", 3: FLAG}),
    ("1b\n2a\n3 a five-year plan for the farms", {1: "B", 2: "A", 3: FLAG}),
    # The forum's [X] mark in a vote with no [X] prompt, and "/" between number and letter.
    ("[X] B\n[X] A", WHOLE),
    ("Vote:\n[X] Punish them\n[X] End the war", WHOLE),
    ("1/B 2/A", {1: FLAG, 2: FLAG}),
]
