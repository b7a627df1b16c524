import json
from functools import lru_cache
from pathlib import Path

import pytest

from unstuck.data import DATA_DIR
from unstuck.model.nlp import get_nlp
from unstuck.model.safety import CrisisScreen, default_screen

CASES = DATA_DIR / "crisis" / "suite.jsonl"


def load_cases() -> list[dict]:
    return [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines() if line.strip()]


def screen(text: str):
    return default_screen().screen(get_nlp()(text))


@lru_cache(maxsize=1)
def rules_only() -> CrisisScreen:
    """The rules without the classifier, built once (building the matchers takes most of a second)."""
    return CrisisScreen(get_nlp())


def test_safety_suite_has_enough_phrasings_of_each_side():
    cases = load_cases()
    assert sum(c["crisis"] for c in cases) >= 80
    assert sum(not c["crisis"] for c in cases) >= 80


def test_safety_recall_is_total_and_false_alarms_are_reported(capsys):
    cases = load_cases()
    missed = [c for c in cases if c["crisis"] and not screen(c["text"]).flagged]
    alarms = [c for c in cases if not c["crisis"] and screen(c["text"]).flagged]
    positives = sum(c["crisis"] for c in cases)
    negatives = len(cases) - positives
    with capsys.disabled():
        print(f"\ncrisis screen: recall {1 - len(missed) / positives:.1%} on {positives} positives; "
              f"false alarms {len(alarms) / negatives:.1%} on {negatives} negatives "
              f"({', '.join(sorted({c['kind'] for c in alarms})) or 'none'})")
    assert not missed, [c["kind"] for c in missed]
    assert len(alarms) / negatives <= 0.10


@pytest.mark.parametrize("text", [
    "this homework is killing me",
    "I could murder a burger right now",
    "dying to see her on friday",
    "my boss will kill me if I'm late again",
    "the new commute is going to kill my podcast backlog",
    "I'm going to murder this essay tonight",
])
def test_safety_figurative_language_does_not_fire(text):
    assert not screen(text).flagged


@pytest.mark.parametrize("text", [
    "my phone died and honestly i want to die too lol, every day is the same",
    "lol the wifi is down and i'm not even joking, i want to kill myself tonight",
    "haha coffee is the only thing keeping me alive, otherwise i'd kms",
    "failed my exam and literally want to die lol",
    "i want to die lol",
    "missed my meeting lol. the pills are counted out on my desk",
    # written by a reviewer to defeat a joke rule that was then not shipped (data/crisis/README.md)
    "someone posted my nudes in the group chat. i want to die lol \U0001F480",
    "going through a rough patch, literally want to die lol",
    "my 12 yo son says he wants to kill himself whenever he loses a match lol, normal?",
    "going to jump off the bridge lol my phone died",
    "kms this weekend lol. finishing my streak first",
    # a long entry is not a quick joke, whatever it laughs at
    "Work was fine, the meeting ran long and the coffee machine broke, lol. I drove home the long way and sat down "
    "in the car outside the house for an hour because I could not face going in. On some nights like this I "
    "literally want to die and I do not know who to tell.",
])
def test_safety_a_laugh_or_an_everyday_word_beside_risk_still_flags(text):
    assert screen(text).flagged


@pytest.mark.parametrize("text", [
    "I looked up how many pills it would take",
    "everyone would be better off without me",
    "I'm not suicidal but I keep thinking about the pills",
    "my little brother gets hit by dad when he's drunk, there were bruises again",
    "I want to kill the foreman, for real. I've been watching which road he walks home alone.",
])
def test_safety_fires_on_indirect_and_third_party_risk(text):
    result = screen(text)
    assert result.flagged
    assert all(text[m.start:m.end] == m.text for m in result.matches)


@pytest.mark.parametrize("text", [
    "Our neighbour's son took his own life in the spring; I brought her soup and we looked at his photos.",
    "i'm not going to hurt myself, i promise. i just needed to cry it out and now i feel better",
    "not gonna unalive myself over one bad grade, relax everyone",
    "Suicide is never the answer, the leaflet said, and the poster gave a hotline number.",
    "Texted my cousin back. If you ever feel suicidal, please ring the number on your fridge.",
    "The nurse asked whether I had thought about hurting myself. No, never, and I said so.",
    "My abusive ex lives in another country now and we have no contact.",
    "Revising the lecture on suicide risk assessment for Friday's exam.",
    "A lad I played football with at school committed suicide, and I went to the service with my dad.",
    "Honestly, committing suicide won't fix what's wrong, I know that, and I want to help you find what will.",
    "I'm no longer suicidal; the new job and the dog have changed my mornings.",
    "Two of my suicidal friends from school are doing much better now, and we had pizza on Friday.",
    "My dad attempted suicide when I was nine; we can talk about it openly now.",
    "I would be heartbroken if you did something like suicide, so please ring me first.",
    "I honestly don't believe you want to die, I think you want the pain to stop.",
    "I'm not a danger to myself, the assessment nurse agreed, just worn out.",
    "Packing the office up: I'll spend my last day on the job handing over to Priya.",
    "Discharged back to the GP today, no urges and no plans.",
    "Volunteer shift: two callers were actively suicidal and we got them help.",
    "Nurse training day: we practised asking a patient about suicide, calmly and directly.",
    "The clinic ran the suicide screen on me today. Honestly no.",
    "The GP asked if I'd had thoughts of suicide. Bit surprised, but no, honestly no.",
    "History of self-harm, none in ten years, the letter says, and that is right.",
    "Half marathon done and my legs want to die.",
    "At fifteen I was in hospital after an overdose; I'm thirty now and well.",
    "Watched a series with a self-harm storyline; the helpline card at the end was a nice touch.",
    "Homework log for Thursday: no urge to cut, no wanting to die, just flat and bored.",
    "The nurse asked the usual questions about suicide and I said no, none of that.",
    "My sister rang and asked me am I thinking of hurting myself. I said no, I'm just tired.",
    "Back in Year 9 I self-harmed for a while; that was twelve years ago.",
    "Prison visit for work: two men on self-harm watch, both asleep when I went round.",
    "When I'm gone for the weekend my neighbour feeds the cat.",
    "This spreadsheet wants me dead. Four hundred rows to go.",
    "At the check-up the health visitor asked about thoughts of self-harm. None, I told her.",
    "Overdosed on mince pies again, classic December.",
    "The lecture today was on how the press covers suicide, and it was sobering.",
    # the twelfth blind set's kinds of false alarm, in other words
    "Paper says a nursery worker was convicted for neglecting the toddlers in her room.",
    "Shop was busy: a dad came in asking about an overdose of his daughter's vitamins, all fine in the end.",
    "Helpline shift done; three of the people who were actively suicidal accepted a call back.",
    "I had a couple of years where I thought about suicide a lot. That ended in 2016.",
    "That overtake on lap nine was a suicidal move and it won him the race.",
    "My phone basically committed suicide when it hit the bath.",
    "This song is so good I could walk into the sea.",
    "I'll hang myself with the printer cable if one more person asks for the report.",
    "Blew myself up in the last round, killed myself with my own rocket.",
    "A year since Sam's suicide and the house is still full of his books.",
    "The course showed us how to ask someone if they are thinking about suicide.",
    "Reading a memoir about a man's life after a suicide attempt, and it's lovely.",
    "Low all week. I don't want to hurt myself and I'm not thinking about death, just heavy.",
    # real forum replies' kinds of false alarm, in other words
    "Please think of your kids; your suicide would wreck them.",
    "Honestly I think people who consider suicide are in more pain than anyone sees.",
    "Like my nan used to say, it's a permanent solution to a temporary problem.",
    "I don't see suicide as an option. What I need is a new job.",
    "When I was in high school I tried to kill myself; I'm 40 now with a family.",
    "I was suicidal for six years.",
    "I've been suicidal before. These days I run a support group.",
    "Never give up on life, mate, it does turn.",
    # a code review's examples: the new rules stay away from everyday sentences
    "We walked into the lake to cool off.",
    "The meds are ready for pickup at the pharmacy.",
    "I'll join them at the restaurant later.",
    "I left the car in the garage.",
    "His pockets were full of stones after the beach.",
    "The doctor told me to stop giving her the medicine.",
    "I necked myself a couple of pints.",
    # the thirteenth blind set's kinds of false alarm, in other words
    "Night shift: one of our residents tried to climb out of a window again, the ward is short staffed.",
    "Four overdose presentations before midnight and not one bed free.",
    "Part of my job is to ask about suicide risk at every review.",
    "The patient in bay 3 keeps telling us she wants to die; the team know and she is on checks.",
    "A caller rang in about trying to kill himself years ago and how he got through it.",
    "Answered no to every question about self-harm on the form, because it's true.",
    "Thoughts of ending it all, no. Just a flat week.",
    "My sister says I look like I've given up on life. I haven't, I'm just tired.",
    "Saw a thriller where the nurse poisoned three patients. Couldn't sleep.",
    "The dog sat on the stairs planning my murder because dinner was late.",
    # a second code review's examples of everyday sentences
    "We still need to decide who gets what for Secret Santa.",
    "Tried the diet again, doing it properly this time.",
    "Drove into the Lake District for the weekend.",
    "Did her a favour by checking her tyres.",
    # the fourteenth blind set's kinds of false alarm, in other words
    "Care worker note: one of my residents told me he'd been saving up his tablets, so I called the team.",
    "Had an older gentleman in after an overdose of his heart pills; stable by lunchtime.",
    "A lad from my meeting died of an overdose at the weekend.",
    "My sponsor relapsed on Friday and I'm gutted for her.",
    "The scars on my wrists are white and old now; I'm a long way from that girl.",
    "I have never once thought of taking my own life.",
    "No self-harm, no wanting to disappear, just a heavy cold.",
    "Wanting to die? No. Wanting a nap, yes.",
])
def test_safety_rules_skip_news_advice_questions_answered_no_and_the_writers_past(text):
    assert not rules_only().screen(get_nlp()(text)).flagged  # the rules alone: the model may judge


@pytest.mark.parametrize("text", [
    "I've been suicidal again this week.",
    "The nurse asked whether I had thought about hurting myself. I said no but honestly yes, every night.",
    "Took a handful of my sleeping pills last night and woke up sick. Wish I'd swallowed more of them.",
    "There is child abuse going on next door and nobody rings anyone.",
    "Committing suicide would sort everything out for everyone, me included.",
    "I was no longer suicidal for a while but it's back again this week.",
    "Work was awful again and I cut to calm down, like I always do now.",
    "When it gets this loud in my head I have to cut, nothing else works.",
    "Been fighting the urge to cut all evening.",
    "They'd cry for a week and then it would get easier for all of them.",
    "My wife slammed my head into the cupboard and I haven't told anyone. I've written a note and I know where I'm going to do it.",
    "I've started to hope this illness kills me, and when that doesn't come quick enough I think about the morphine.",
    "There's nothing left to live for.",
    "Took 30 of my sertraline about an hour ago. Feeling sleepy.",
    "All I want right now is to end it.",
    "My mum tried to commit suicide and now I want to kill myself too.",
    "Worst part of this month is how you never get warned before the suicidal thoughts hit me.",
    "He told his sister he would go on one last trip and kill himself after it.",
    "My GP wants to refer me because she thinks I'm a danger to myself. Maybe she's right.",
    "Drove out to the lake where I'm going to spend my last night. It's quiet.",
    "Rough week. not great, feeling suicidal most evenings, told nobody.",
    "The kids are at their dad's and I'm not safe on my own tonight.",
    "Ran a hose from the exhaust into the back window and sat there a while.",
    "Put the whole packet in one go so I don't wake up.",
    "Gave her an extra dose of the cough syrup so she'd sleep through.",
    "Lost it with my son and hit him hard enough to leave a bruise.",
    "Relapsed on Sunday: I cut for the first time in eight months.",
    "If you are reading this I'll be gone, and the dog goes to Aunt Viv.",
    "Sat with the tablets on the duvet most of the night, thinking I'd just finish it.",
    "Honestly the house would run smoother if I wasn't around, and everyone knows it.",
    "Alarm went off and I was gutted I woke up again.",
    "Three different pharmacies this week so nobody asks; the boxes are in my bag.",
    "Put my dressing-gown cord over the hook and stood there with it around my neck for a while.",
    "Up on the car park roof at lunch and I kept thinking about stepping off.",
    "I want it to look like an accident so the insurance pays out for the kids.",
    "Most nights I pray for God to take me before morning.",
    "Nothing is safe in my head tonight; I'm not safe in my own head.",
    # a yes or a present word in the answer, or a "no" inside a clause, does not answer a question no
    "The nurse asked whether I'd thought about killing myself. Yes, sometimes, but no plan.",
    "The GP asked if I'd had thoughts of suicide. Every day, it never goes away.",
    # "you" as an object, or someone else named after it, is not the match's subject
    "I wrote you a suicide note.",
    "I panicked when you said he'd kill himself.",
    # the twelfth blind set's kinds of miss, in other words
    "Most days I'd rather not be here at all, and I'm not planning anything.",
    "Woke up and felt gutted that I'm still breathing.",
    "The pills are ready beside the bed.",
    "Sat in the shed with it against my temple again.",
    "Left the engine running in the garage and sat there till I got dizzy.",
    "I've written to the neighbour so that I am found quickly.",
    "Her birthday is next week and that is when I will join her.",
    "Stood on the bank with my pockets full of rocks.",
    "The whole team would have an easier time if I wasn't in it.",
    "If he comes through that gate again I'm going to fire the rifle at him.",
    "I stopped giving him his meals because he keeps spitting them out.",
    # real forum posts' kinds of miss, in other words
    "Attempted suicide last weekend and nobody at school knows.",
    "The only reason I'm still here is my dog.",
    "Trying really hard to not kill myself this week.",
    "I tried to kill myself not too long ago and it still feels close.",
    "Scratched my arm until I started bleeding again.",
    "Been thinking about necking myself since Friday.",
    "I've been suicidal before but never with a date picked like now.",
    # a code review's examples: what this session's precision patterns must not swallow
    "I'm at that point where I just want to end it all.",
    "I've felt like this before and I want to die.",
    "I was stockpiling my pills for months.",
    "I'm so sad that I want to die.",
    "I'm going to kill myself if I have one more panic attack.",
    "I have a job interview on Monday but I'm planning to end my life on Sunday.",
    "I'm going to copy his suicide, same bridge, same method.",
    "As someone who is suicidal, I hate these posts.",
    "I need to stop him from killing himself tonight, he has a gun.",
    "I don't see suicide as an option anymore, it's the only way.",
    "I'm the kind of person who would kill himself over this.",
    # the thirteenth blind set's kinds of miss, in other words
    "Left my bank passwords with my brother and told him it's just in case.",
    "There's a note in the drawer saying what to do with my records and the dog.",
    "I keep picturing driving off the end of the pier at night.",
    "The life insurance is worth more to them than I am.",
    "If I fell asleep and that was it, I'd be okay with that.",
    "Part of me hopes the train derails on the way home.",
    "Wouldn't fight it if the scan showed cancer.",
    "Will try again, properly this time.",
    "I'll wait till after her wedding so she doesn't think it was about her.",
    "Honestly scared of what I'll do tonight.",
    # a second code review's examples: what the thirteenth set's precision patterns must not swallow
    "Before I left the flat I wrote my suicide note.",
    "She ran through the checklist and I didn't tell her I've been planning my suicide.",
    "The GP asked about suicidal thoughts and I said yes.",
    "I'm a 16 year old girl who just took an overdose.",
    "I look like I've given up on life and honestly I have.",
    # a third code review's examples: what the fourteenth set's precision patterns must not swallow
    "The nurse asked whether I'd taken an overdose and I said no. I took 20 paracetamol though.",
    "I nearly died of an overdose last night.",
    "My daughter nearly died of an overdose and she says she'll try again.",
    "Relapsed on the cutting after the meeting, I feel like such a failure.",
    "I cut myself over the silver scars.",
    "My scars are faded but I have the blade ready.",
    "One of my clients told me she'd cut her wrists last night and it's still bleeding.",
    "Had a lad in after an overdose and he says he'll do it again when he gets out.",
])
def test_safety_the_writer_now_a_question_answered_yes_and_a_dependent_still_fire(text):
    assert screen(text).flagged


def test_safety_fear_of_what_a_session_brings_up_is_not_fear_of_what_one_might_do():
    assert not screen("I keep skipping sessions because I'm scared of what comes up").flagged
    assert screen("I'm scared of what I might do tonight").flagged


def test_safety_plain_denial_does_not_fire_but_a_hedged_one_does():
    assert not screen("I'm not suicidal, just exhausted from the week").flagged
    assert screen("I'm not suicidal, probably, but I don't want to wake up tomorrow").flagged


@pytest.mark.parametrize("text", [
    "Check-in for Thursday. Thoughts of death: no. Thoughts of harming myself: no. Sleep: six hours.",
    "Diary card: urge to harm self 0, urge to die 0, sadness 4, anxiety 3. Honest zeros.",
    "The depression's back. No thoughts of death or harming myself, just heavy.",
    "I want to say clearly that I'm not feeling like hurting myself, I've got things to work toward.",
    "Sad about Grandpa, but there's no part of me that wants to not be here.",
    "CORE-10 at the start of the session. I made plans to end my life: not at all. Sleep: most of the time.",
    "The thought of harming myself has occurred to me: never.",
])
def test_safety_a_risk_answered_no_in_a_form_or_a_diary_card_does_not_fire(text):
    assert not rules_only().screen(get_nlp()(text)).flagged


@pytest.mark.parametrize("text", [
    "Thoughts of death: no. I've worked out how I'm going to do it, and when.",
    "Balanced thought: none. I know how, and it'll be the Saturday after payday.",
    "Diary card: urge to die 5, ability to resist it: 1.",
    "Mood log. Sleep 4 hours. SI: 4/5 today. Skills used: none.",
    "Still wishing every night that I won't be here in the morning.",
    "I'm not OK and I don't feel in control of what I might do to myself.",
    "Urge to harm self 0, but I've already decided how I'm going to end it.",
    "I made plans to end my life: most or all of the time.",
    "I have thought of hurting myself: not at all, but I've been scratching my arms again.",
    # a count or a "none" in a list of the writer's own is no questionnaire's answer
    "What is left that stops me ending my life: none.",
    "Nights since I last cut myself: 0.",
    "Second thoughts about killing myself: not at all.",
])
def test_safety_a_form_with_one_field_denied_still_fires_on_the_risk_it_shows(text):
    assert screen(text).flagged


@pytest.mark.parametrize("text, flagged", [
    # the PHQ-9's ninth item in its own words (its "you" asks the writer), answered above "not at all"
    ("Session 6. PHQ-9 went up to 17. Thoughts that you would be better off dead, or of hurting yourself in "
     "some way: more than half the days.", True),
    ("Over the last two weeks... thoughts that you would be better off dead or of hurting yourself in some way "
     "- nearly every day", True),
    ("Ticked my boxes again. PHQ-9 item 9 was a 2 this week.", True),
    ("Thoughts that you would be better off dead or of hurting yourself in some way: not at all. Tiredness: "
     "nearly every day.", False),
    ("PHQ-9 item 9: 0, the rest much the same as last time.", False),
    # a C-SSRS screener question pasted as asked, answered yes or no
    ("Have you wished you were dead or wished you could go to sleep and not wake up? Yes.", True),
    ("The screening nurse read out 'have you had any thoughts of killing yourself?' and I said yes.", True),
    ("Have you actually had any thoughts of killing yourself? No. Have you ever done anything to end your "
     "life? No.", False),
    # the same words as advice to someone else stay unflagged
    ("If you ever have thoughts that you would be better off dead, please tell your GP.", False),
    # an everyday question to the writer answered yes is no screening item
    ("Have you been taking care of yourself this week? Yes, early nights and a walk most days.", False),
    ("Did the counsellor say anything about your life at home? Yes, she asked about the flat.", False),
    # a question in the writer's own sentence, answered no, leaves the writer's risk standing
    ("I keep planning how to kill myself, do you even care? No. Nobody does.", True),
    ("I'm going to hang myself tonight, were you listening? No.", True),
])
def test_safety_a_screening_questionnaires_suicide_item_flags_by_its_answer(text, flagged):
    assert rules_only().screen(get_nlp()(text)).flagged is flagged


# The third review's cases (2026-12-07, fourth session).
THIRD_REVIEW = [
    # a form field denied, then risk in the same sentence or the next
    ("Thoughts of suicide: no, and I've got 40 paracetamol in my bag.", True, False),
    ("Thoughts of death: no. Plan: Saturday, the bridge by the bypass.", True, False),
    ("No part of me wants to live anymore.", True, False),
    ("I don't feel like killing myself would be a loss to anyone.", True, False),
    ("Urges to harm others: none. Urges to harm myself: none. Urge to jump in front of the 8.12: high.", True, False),
    # abuse told as people tell it; a game, a cup of tea and a body size are not
    ("Brother beat me again last night for being a disgrace. Bruises everywhere.", None, True),
    ("the missus punched me in the face tonight. split lip and work tomorrow", False, True),
    ("He's really verbally and emotionally abusive. Should we call it quits?", False, True),
    ("I'm being verbally abused on a daily basis by my parents and I have nowhere else to go.", None, True),
    ("My ex was abusive, years ago. I'm with someone kind now.", False, False),
    ("My ex-boyfriend will not stop harassing and stalking me. We work together.", False, True),
    ("My dad calls me names and makes me feel worthless. I want to move out.", None, True),
    ("My husband calls me every lunchtime to see how my day is going.", False, False),
    ("Self-care list: poured hot water in my mug, lit a candle, phoned my sister.", False, False),
    ("I'm a six-foot bloke and I'm scared of my own wife. She punched me in the face last night.", False, True),
    # a writer under 18 hurt now is a child being abused; an adult's memory of it is not now
    ("I'm 15 - my stepdad slaps me when he's been drinking, most weekends.", True, True),
    ("Fourteen years old. That's how old I was when he first hit me. I'm 38 now and safe.", False, None),
]
# Shapes that raised false alarms on real forum posts (2026-12-07, tenth session), beside the risk in
# nearly the same words that must still flag, some from the reviews of those changes.
REAL_POST_SHAPES = [
    # a denial that turns to something else still flags ("but" undoes it: when unsure, flag)
    ("I'm not suicidal but I keep thinking about the pills in the bathroom cabinet", True, None),
    ("The only reason I don't kill myself is my cat.", True, None),
    ("maybe I should just do everyone a favour and make my exit.", True, None),
    # the writer's own abuse, over; abuse named with no child or elder in its sentence; a content warning
    ("My dad was abusive when I was little, and therapy is slowly helping.", False, False),
    ("I've been out of my abusive relationship for almost three years now.", False, False),
    ("Therapy is helping me with PTSD after an abusive marriage.", False, False),
    ("TW: child abuse, self-harm. I've been in therapy for a year and it's slowly helping.", False, False),
    ("My dad was abusive and he still hits me when he's drunk.", None, True),
    ("He is abusing my daughter and I don't know who to tell.", True, None),
    # medication talk, being put out of a home, dreading a therapist's words
    ("I take my meds in the morning and my routine is finally sorted.", False, False),
    ("He said it was a small dose and I would be fine.", False, False),
    ("I've been counting my pills every night this week.", True, None),
    ("She kicked me out after we argued, so I'm on a friend's sofa.", False, False),
    ("I'm scared of what my therapist is going to say about the missed sessions.", False, False),
    ("I'm scared of what he's going to do when he gets home tonight.", None, True),
    # from the review of these changes: risk in the same shapes that must still flag
    ("I think he's been abusing her for months. She's seven. I don't know who to tell.", True, None),
    ("tw self harm cutting again last night, deeper than before", True, None),
    ("I don't want to kill myself, but part of me really does", True, None),
    ("im not suicidal yet", True, None),
    ("For some reason I'm not suicidal this week, which is new and honestly nice.", False, False),
    ("The manager should do everyone a favour and end these pointless Friday meetings.", False, False),
    ("My dad was drunk when I got home and he hit me with his belt", None, True),
    ("He kicked me off the sofa and then kicked me in the ribs while I was on the floor.", None, True),
    ("After a violent row he put his hands round my throat and I blacked out for a second.", None, True),
    ("After an abusive relationship I find it hard to trust anyone new", False, False),
    # relapse into drink or an illness, drowning in work, someone else's past death, a screen's old "yes"
    ("My friend says I'm going through a PTSD relapse after the anniversary.", False, False),
    ("I relapsed on alcohol last night and I'm so ashamed.", False, False),
    ("I relapsed last night.", True, None),
    ("relapsed back into drinking and cutting", True, None),
    ("I have been drowning myself in alcohol every day since the funeral.", False, False),
    ("I had a friend kill himself in April and I still can't talk about it.", False, False),
    ("my brother tried to kill himself an hour ago and he's refusing the ambulance", True, None),
    ("I have zero interest in hurting myself, I just can't sleep.", False, False),
    ("I don't feel like I want to die, I feel like I need to.", True, None),
    ("Have you ever tried to kill yourself? Yes. Back in 2009, nothing since.", False, False),
    ("Have you ever tried to kill yourself? Yeah. Back in uni. Been thinking about doing it again though.", True, None),
]


# Shapes the twenty-second blind set's misses and false alarms showed (2026-12-08, eleventh session),
# beside look-alikes in nearly the same words.
FORUM_POST_SHAPES = [
    # a plan told by its parts, a day chosen, letters for after
    ("I've got a plan now. I know where, I know how, and I'm just waiting for the house to be empty.", True, None),
    ("I've written it all out in my notes app, the how and the when.", True, None),
    ("I've decided Saturday is the day, when I've had my last weekend with them.", True, None),
    ("I've chosen a day, the anniversary of my dad's death, and I'll be alone that day.", True, None),
    ("I've been writing letters, one for mum, one for my brother, and put them where they'll be found.", True, None),
    ("We need to figure out the how and the when of the move.", False, False),
    ("I've decided Saturday is the day I finally clean the garage.", False, False),
    ("It's the anniversary of my attempt, five years, and I'm doing well.", False, False),
    # passive wishes and burden thoughts in other words
    ("I keep thinking if I got hit by a truck on the way to the meeting that'd be alright.", True, None),
    ("I feel like I've stopped caring if I live.", True, None),
    ("he'd be happier and freer if I was gone for good", True, None),
    ("The voice tells me how much of a burden I am and how useless I am.", True, None),
    ("I feel like I got hit by a truck today, so tired.", False, False),
    ("I stopped caring if I lived up to their expectations.", False, False),
    ("It's a burden I'm carrying alone since mum got ill.", False, False),
    # means in other words; a medicine routine is not
    ("Last Saturday I took all my sleeping tablets with half a bottle of vodka.", True, None),
    ("I've sat in the garage with the door shut and the engine running, just to see.", True, None),
    ("I'm not okay to be on my own tonight.", True, None),
    ("Took all my meds this morning with breakfast and a glass of water.", False, False),
    # a relapse into drink or drugs in a post about meetings, and a self-harm relapse in one
    ("Relapsed last night after 90 days. AA meeting tonight and my sponsor is coming with me.", False, False),
    ("Relapsed last night after 90 days sober from drinking. Got the razor out again too.", True, None),
    ("Relapsed. Not the booze, the other thing. Still 90 days sober from drinking.", True, None),
    # a past stretch told by ages is over; a time of day is not a past stretch
    ("I self-harmed from 13 to 22. I've been free of it for seven years.", False, False),
    ("I cut myself most nights, from 11 to 1, and nobody knows.", True, None),
    # the writer's own flinch; a child's; a custody handover; someone else's past overdose
    ("My dad was abusive and I still flinch when someone raises their voice.", False, None),
    ("One of my pupils flinches whenever I lift my arm to write on the board.", True, None),
    ("I'm handing her over to her dad on Saturday for the half term.", False, False),
    ("My husband died of an accidental overdose eight months ago and I'm raising our boys alone.", False, False),
    # from the twenty-third set's false alarms, and its third review: a joke's body, a faded scar, an abuser
    # who can no longer reach the writer; the same words in earnest still flag
    ("If Marcus books one more 4:55 meeting I will actually murder him and hide the body.", False, False),
    ("The scars on my arm have gone silvery.", False, False),
    ("The scars have gone silvery so last night I started cutting above them.", True, None),
    ("Nine years since I left him. He can't touch me now.", False, False),
    ("My husband beat me again. I think maybe is better I die, then he cannot touch me.", True, True),
    # "one more ..." is a nuisance's hyperbole, but not "one more day like this", nor a bridge
    ("One more day like this and I'll kill myself.", True, None),
    ("One more letter from the bank and I'll jump off the bridge, I mean it.", True, None),
    ("If I have to sit through one more meeting I'll walk into the sea.", False, False),
    ("One more rejection letter and I'll kill myself. I'm serious, I've written the note.", True, None),
]


@pytest.mark.parametrize("text, crisis, safety", THIRD_REVIEW + REAL_POST_SHAPES + FORUM_POST_SHAPES)
def test_safety_review_and_real_post_cases(text, crisis, safety):
    """None: either is acceptable (the classifier may flag a beating as crisis; a memory's safety flag
    without an 'over' word is a known false alarm)."""
    result = screen(text)
    assert crisis is None or result.flagged == crisis
    assert safety is None or result.safety == safety


def test_safety_pattern_file_errors_name_the_file(tmp_path):
    from unstuck.data.errors import InputError

    bad = tmp_path / "patterns.toml"
    bad.write_text("[[rule]\nid = 'x'\n", encoding="utf-8")
    with pytest.raises(InputError, match="not valid TOML"):
        CrisisScreen(get_nlp(), bad)
    # a rule that names a word list the file lacks (a typo would silently turn the rule's check off)
    bad.write_text("[[rule]]\nid = 'relapse'\nkind = 'self'\nunless_entry = 'adiction_words'\nphrases = ['relapsed']\n",
                   encoding="utf-8")
    with pytest.raises(InputError, match="unless_entry names no word list 'adiction_words'"):
        CrisisScreen(get_nlp(), bad)


@pytest.mark.parametrize("name, min_recall, max_alarms", [
    # The earlier blind sets (blind, blind2, blind3, blind4, long_others, blind5 to blind7, blind9) are
    # training cases now (data/crisis/README.md). Each later set was written by a helper who saw neither
    # the rules nor the cases. The eighth decided four questions; the tenth and the eleventh were read for
    # failure causes, and so were the twelfth and the thirteenth (measured once first: rules+model 90.8% /
    # 18.4% and 88.3% / 18.4%): all five are development data, never trained on (rules+model now: 86.7% /
    # 13.6%, 89.2% / 8.7%, 89.2% / 7.8%, 100% / 2.9%, 100% / 5.8%; the last two are what reading a set's
    # failures does, not fresh figures). The fourteenth (chronic illness and pain, new parents, recovery from
    # addiction: harmless entries full of pills and doses) was measured once (rules+model 79.2% / 24.3%),
    # then decided a question and was read: development data too (now 80.0% / 17.5%). The fifteenth
    # (18-25s and parents of teenagers) was measured once when everything was final: rules 62.5% / 13.6%,
    # rules+model 90.0% / 14.6% (the session's start: 90.0% / 17.5%); so was the sixteenth (faith
    # communities, LGBTQ+ adults, rural lives): rules 53.3% / 18.4%, rules+model 85.8% / 22.3% (85.0% / 23.3%).
    # The seventeenth (short social posts, every one with a suicide word: jokes, news, denials, fiction,
    # support, resolved pasts against posts at risk, a quarter of them masked by "lol" or an emoji) and the
    # eighteenth (journal entries of people in their 40s-60s and second-language writers) were measured
    # before anything else in their session: rules+model 82.5% / 41.7% and 80.0% / 19.4%, and again
    # unchanged at its end. `socdev` (the seventeenth's shape, by another helper) was read to write a rule
    # for jokes, which a review then rejected (data/crisis/README.md): development data, 90.0% / 47.9%.
    # The nineteenth (terse writers in manual trades, first responders, veterans) was measured on
    # arrival: rules 45.8% / 11.7%, rules+model 83.3% / 15.5%. After the classifier was let read the rest
    # of an entry that tells of the writer's own abuse: the eighteenth 82.5% / 19.4%, the nineteenth
    # 85.0% / 15.5%. The twentieth (therapy homework: thought records, diary cards, check-ins, the risk
    # often one form field) was measured on arrival: rules+model 85.0% / 20.4%; it then showed denials in
    # form fields ("Thoughts of harming myself: no.", "urge to die 0,"), now read as denials, and three plain
    # statements it missed are read (a diary card's urge to die rated high...): 87.5% / 17.5%.
    # The twenty-first (carers and parents: babies, teenagers, a parent with dementia, foster and paid
    # carers) was measured on arrival, after the third review's fixes: rules 61.7% / 18.4%,
    # rules+model 90.8% / 20.4%. The twenty-second (mental-health forum posts: PTSD, addiction and recovery,
    # medication talk, past abuse, content warnings, "not suicidal, but...") was measured once when the
    # tenth session's rule changes were final: rules 57.8% / 21.1%, rules+model 81.2% / 22.2% (with the
    # rules of that session's start: 81.2% / 30.0%); the eleventh session read it (development data since):
    # 93.8% / 12.2%. The twenty-third (private journal entries: teenagers, parents and carers, older and
    # terse writers, people in therapy; 61 of 240 over 200 words) was measured once when that session's rule
    # changes were final: rules 56.2% / 18.9%, rules+model 87.5% / 27.8% with a rule that held entries of 200
    # words or more to the window threshold, which that measure took back; without it 89.1% / 27.8% (the
    # session's starting rules and code: 89.8% / 27.8%); read since: 89.1% / 24.4%.
    ("crisis_blind8_test.jsonl", 0.82, 0.17),
    ("crisis_blind10_test.jsonl", 0.85, 0.13),
    ("crisis_blind11_test.jsonl", 0.84, 0.12),
    ("crisis_blind12_test.jsonl", 0.95, 0.06),
    ("crisis_blind13_test.jsonl", 0.95, 0.09),
    ("crisis_blind14_test.jsonl", 0.77, 0.20),
    ("crisis_blind15_test.jsonl", 0.86, 0.18),
    ("crisis_blind16_test.jsonl", 0.82, 0.26),
    ("crisis_blind17_test.jsonl", 0.80, 0.44),
    ("crisis_blind18_test.jsonl", 0.77, 0.22),
    ("crisis_blind19_test.jsonl", 0.80, 0.18),
    ("crisis_blind20_test.jsonl", 0.82, 0.20),
    ("crisis_blind21_test.jsonl", 0.88, 0.23),
    ("crisis_blind22_test.jsonl", 0.92, 0.14),
    ("crisis_blind23_test.jsonl", 0.87, 0.27),
    ("crisis_socdev_test.jsonl", 0.87, 0.50),
])
def test_safety_blind_sets_recall_and_false_alarms(name, min_recall, max_alarms, capsys):
    path = Path(__file__).parent / "data" / name
    cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    flagged = [r.flagged for r in default_screen().screen_many(list(get_nlp().pipe(c["text"] for c in cases)))]
    at_risk = [f for f, c in zip(flagged, cases) if c["crisis"]]
    not_at_risk = [f for f, c in zip(flagged, cases) if not c["crisis"] and not c.get("safety")]
    recall, alarms = sum(at_risk) / len(at_risk), sum(not_at_risk) / len(not_at_risk)
    with capsys.disabled():
        print(f"\ncrisis screen on {name}: recall {recall:.1%} of {len(at_risk)}; "
              f"false alarms {alarms:.1%} of {len(not_at_risk)} look-alikes")
    assert recall >= min_recall
    assert alarms <= max_alarms


class FixedModel:
    """A stand-in crisis model that scores every text the same."""

    def __init__(self, score: float) -> None:
        self.score, self.threshold = score, 0.5

    def probabilities(self, texts):
        return [self.score] * len(texts)

    def window_probabilities(self, sentences, windows):
        return [[self.score] * len(w) for w in windows]


def test_safety_model_adds_a_flag_showing_a_sentence_but_never_removes_one():
    nlp = get_nlp()
    text = "Long day at work. I sorted the drawers and wrote to everyone. It feels tidy now."
    flagged = CrisisScreen(nlp, model=FixedModel(0.9)).screen(nlp(text))
    assert flagged.flagged and [m.rule for m in flagged.matches] == ["crisis_model"]
    match = flagged.matches[0]
    assert text[match.start:match.end] == match.text and match.text.endswith(".")
    assert not CrisisScreen(nlp, model=FixedModel(0.1)).screen(nlp(text)).flagged
    assert CrisisScreen(nlp, model=FixedModel(0.0)).screen(nlp("I want to die")).flagged


def test_safety_model_cannot_overrule_figurative_language_or_a_plain_denial():
    nlp, high = get_nlp(), CrisisScreen(get_nlp(), model=FixedModel(0.99))
    assert not high.screen(nlp("my boss will kill me if I'm late again")).flagged
    assert not high.screen(nlp("I'm not suicidal, just exhausted from the week")).flagged


@pytest.mark.parametrize("changes, reason", [
    ({"label_ids": ["crisis", "extra"]}, "other labels"),
    ({"thresholds": {"entry": 0.3}}, "entry, window"),
    ({"thresholds": {"entry": 0.3, "window": 1.5}}, "not between 0 and 1"),
    ({"library_versions": {"numpy": "2.4.6"}}, "scikit-learn"),
    ({"config": {"short_words": "six"}}, "short_words"),
])
def test_safety_crisis_model_manifest_is_checked_before_anything_is_unpickled(payload_model, tmp_path, changes,
                                                                              reason):
    from unstuck.model import crisis_model

    crisis = {"label_ids": ["crisis"], "thresholds": {"entry": 0.3, "window": 0.98}, "config": {"short_words": 6}}
    folder, marker = payload_model(tmp_path / "crisis", **{**crisis, **changes})
    with pytest.raises(crisis_model.CrisisModelError, match=reason):
        crisis_model.CrisisModel.load(folder)
    assert not marker.exists()


@pytest.mark.slow
def test_safety_measure_only_rewrites_the_blind_figures_and_leaves_the_classifier(tmp_path):
    import shutil

    from unstuck.model.crisis_model import CRISIS_DIR
    from unstuck.training.build_crisis import main

    model, tests = tmp_path / "model", tmp_path / "tests"
    shutil.copytree(CRISIS_DIR, model)
    tests.mkdir()
    cases = [{"id": "a", "text": "I want to die tonight.", "crisis": True},
             {"id": "b", "text": "This homework is killing me.", "crisis": False},
             {"id": "c", "text": "Lovely walk by the river with the dog.", "crisis": False}]
    (tests / "crisis_tiny_test.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    pipeline = (model / "pipeline.pkl.gz").read_bytes()
    assert main(["--measure-only", "--out", str(model), "--tests", str(tests)]) == 0
    measured = json.loads((model / "meta.json").read_text(encoding="utf-8"))["metrics"]["blind_test"]
    assert list(measured) == ["crisis_tiny_test.jsonl"]
    assert measured["crisis_tiny_test.jsonl"]["rules+model"] == {"recall": 1.0, "false_alarms": 0.0, "n_at_risk": 1, "n_not": 2}
    assert (model / "pipeline.pkl.gz").read_bytes() == pipeline


def test_safety_unusable_crisis_model_is_refused_by_tag_and_rebuilt_by_models_rebuild(tmp_path, monkeypatch):
    import shutil

    from typer.testing import CliRunner

    from unstuck.cli.app import app
    from unstuck.model import crisis_model, safety
    from unstuck.model.artifact import PIPELINE_FILE

    damaged = tmp_path / "crisis"
    damaged.mkdir()
    shutil.copy(crisis_model.CRISIS_DIR / "meta.json", damaged / "meta.json")
    (damaged / PIPELINE_FILE).write_bytes(b"not a model")
    with pytest.raises(crisis_model.CrisisModelError, match="changed"):
        crisis_model.CrisisModel.load(damaged)
    monkeypatch.setattr(crisis_model, "CRISIS_DIR", damaged)
    # a rebuild trains on the shipped cases and seed set; a slice of each keeps this test quick
    from unstuck.training import crisis as crisis_training
    cases = tmp_path / "cases"
    cases.mkdir()
    for path in sorted(crisis_training.CASES_DIR.glob("*.jsonl"))[:4]:
        (cases / path.name).write_text("".join(path.read_text(encoding="utf-8").splitlines(True)[:60]), encoding="utf-8")
    seed = crisis_training.load_seed()[:300]
    monkeypatch.setattr(crisis_training, "CASES_DIR", cases)
    monkeypatch.setattr(crisis_training, "load_seed", lambda: seed)
    caches = (crisis_model.default_model, safety.default_screen)
    for cached in caches:
        cached.cache_clear()
    try:
        refused = CliRunner().invoke(app, ["tag", "--json", "i looked up how many of my pills it would take"])
        assert refused.exit_code == 2 and len(refused.stderr.splitlines()) == 1
        assert "run `unstuck models rebuild`" in refused.stderr
        assert not (crisis_model.rebuilt_dir() / "meta.json").exists(), "tag rebuilds nothing"
        rebuilt = CliRunner().invoke(app, ["models", "rebuild"])
        assert rebuilt.exit_code == 0 and "rebuilt the shipped crisis model into" in rebuilt.stdout
        assert (crisis_model.rebuilt_dir() / "meta.json").exists()
        assert (damaged / PIPELINE_FILE).read_bytes() == b"not a model", "the shipped file is left alone"
        safety.default_screen.cache_clear()
        result = CliRunner().invoke(app, ["tag", "--json", "i looked up how many of my pills it would take"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["crisis"] is True
    finally:
        for cached in caches:
            cached.cache_clear()
