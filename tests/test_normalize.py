"""Speech normalization: numbers, names, acronyms, links and lexicons.

Every case is a pure function call; the table rows come from the sample issue
(``seeds/ai-weekly/2024-02-3.yaml``) and from realistic AI-news sentences.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from podcast.engines.edge import EdgeEngine
from podcast.engines.espeak import EspeakEngine
from podcast.errors import InputError
from podcast.input.project import load
from podcast.input.yamlio import load_document
from podcast.speech.lexicon import Lexicon, default_lexicon, language_key, load_lexicon, read_lexicon
from podcast.speech.normalize import PAUSE_RE, Chunk, chunks, speak, split_sentences

SAMPLE = Path(__file__).resolve().parent.parent / "seeds" / "ai-weekly" / "2024-02-3.yaml"

# ---------------------------------------------------------------------------------------------
# Mandarin

SAMPLE_ZH = [
    ("OpenAI发布了视频生成扩散模型Sora，名字取自日语里天空一词的发音。",
     "Open A I发布了视频生成扩散模型Sora，名字取自日语里天空一词的发音。"),
    ("只要给它一段文字或一张图片，它就能生成最长60秒、清晰度可选的高质量视频。",
     "只要给它一段文字或一张图片，它就能生成最长六十秒、清晰度可选的高质量视频。"),
    ("Google DeepMind等团队的研究者升级了低成本的开源双臂遥操作系统ALOHA，"
     "推出了第二代ALOHA 2。",
     "Google DeepMind等团队的研究者升级了低成本的开源双臂遥操作系统Aloha，"
     "推出了第二代Aloha two。"),
    ("ALOHA 2：低成本双臂遥操作机器人", "Aloha two：低成本双臂遥操作机器人"),
    ("BASE TTS：10亿参数的语音合成模型", "Base T T S：十亿参数的语音合成模型"),
    ("Amazon AGI的研究者在文本转语音领域推出了BASE TTS，"
     "全称是Big Adaptive Streamable TTS with Emergent Abilities。",
     "Amazon A G I的研究者在文本转语音领域推出了Base T T S，"
     "全称是Big Adaptive Streamable T T S with Emergent Abilities。"),
    ("它有10亿参数，用10万小时的公共领域语音训练，是目前最大的TTS模型。",
     "它有十亿参数，用十万小时的公共领域语音训练，是目前最大的T T S模型。"),
    ("发现从BASE Small到BASE Medium，自然度提升明显。",
     "发现从Base Small到Base Medium，自然度提升明显。"),
    ("MAGNeT：非自回归音频生成模型", "Magnet：非自回归音频生成模型"),
    ("它生成的音频质量能和领先的自回归基线模型相媲美，延迟却大大降低，速度大约是自回归基线的7倍。",
     "它生成的音频质量能和领先的自回归基线模型相媲美，延迟却大大降低，速度大约是自回归基线的七倍。"),
    ("AIWaves的研究者面向创意写作，推出了一系列基础模型Weaver。",
     "A I Waves的研究者面向创意写作，推出了一系列基础模型Weaver。"),
    ("其中最大的Weaver Ultra有340亿参数，也就是34B，在多个写作场景中的表现超过了GPT-4。",
     "其中最大的Weaver Ultra有三百四十亿参数，也就是三十四B，在多个写作场景中的表现超过了G P T four。"),
    ("卡内基梅隆大学和苹果的研究者提出了WRAP，全称是Web Rephrase Augmented Pre-training。",
     "卡内基梅隆大学和苹果的研究者提出了Wrap，全称是Web Rephrase Augmented Pre-training。"),
    ("南加州大学的研究者针对网络上泛滥的虚假信息，推出了FACT-GPT。",
     "南加州大学的研究者针对网络上泛滥的虚假信息，推出了Fact G P T。"),
    ("浙江大学等机构的研究者面向6到12岁的儿童，推出了AI系统ChatScratch。",
     "浙江大学等机构的研究者面向六到十二岁的儿童，推出了A I系统ChatScratch。"),
    ("清华大学的研究者发布了多语种监督微调数据集UltraLink，涵盖5种语言、近100万个样本。",
     "清华大学的研究者发布了多语种监督微调数据集UltraLink，涵盖五种语言、近一百万个样本。"),
    ("复旦大学的研究者提出了S-Agents，一个能在开放环境中自我组织的智能体系统。",
     "复旦大学的研究者提出了S-Agents，一个能在开放环境中自我组织的智能体系统。"),
    ("在Minecraft里的实验显示，它们能高效地合作收集资源、搭建建筑。",
     "在Minecraft里的实验显示，它们能高效地合作收集资源、搭建建筑。"),
    ("佐治亚理工学院等机构的研究者提出了物理增强的深度代理模型PEDS。",
     "佐治亚理工学院等机构的研究者提出了物理增强的深度代理模型Peds。"),
    ("它的准确度可达其他神经网络的三倍，只需约1000个训练点，训练数据减少至少100倍。",
     "它的准确度可达其他神经网络的三倍，只需约一千个训练点，训练数据减少至少一百倍。"),
    ("发布了指令微调数据集SMolInstruct，包含14项化学任务和300多万个样本。",
     "发布了指令微调数据集SMolInstruct，包含十四项化学任务和三百多万个样本。"),
    ("团队还基于它微调了4个开源大模型，分别是Galactica、Llama 2、Code Llama和Mistral。",
     "团队还基于它微调了四个开源大模型，分别是Galactica、Llama two、Code Llama和Mistral。"),
    ("得到了名为LlaSMol的模型系列。", "得到了名为LlaSMol的模型系列。"),
    ("麻省理工学院的研究者推出了基于大模型的蛋白质设计平台ProtAgents。",
     "麻省理工学院的研究者推出了基于大模型的蛋白质设计平台ProtAgents。"),
    ("对GPT-4、Llama 2 Chat和Gemini三款大模型进行微调。",
     "对G P T four、Llama two Chat和Gemini三款大模型进行微调。"),
    ("Darrow AI等机构的研究者推出了LegalLens。", "Darrow A I等机构的研究者推出了LegalLens。"),
    ("用大模型生成了两个专门的数据集。", "用大模型生成了两个专门的数据集。"),
    ("大家好，这里是AI大模型周报2024年2月的第3期。",
     "大家好，这里是A I大模型周报二〇二四年二月的第三期。"),
    ("本期我们一起来看15条人工智能领域的新进展。", "本期我们一起来看十五条人工智能领域的新进展。"),
    ("感谢收听，我们下期再见。Thanks for listening!", "感谢收听，我们下期再见。Thanks for listening!"),
]

NUMBERS_ZH = [
    ("支持32k上下文", "支持三十二K上下文"),
    ("10亿", "十亿"),
    ("3倍", "三倍"),
    ("6到12岁", "六到十二岁"),
    ("300多万", "三百多万"),
    ("1000个", "一千个"),
    ("14项", "十四项"),
    ("3.5倍", "三点五倍"),
    ("45%", "百分之四十五"),
    ("准确率从45%提升到72%。", "准确率从百分之四十五提升到百分之七十二。"),
    ("3-5年", "三到五年"),
    ("3%-5%", "百分之三到百分之五"),
    ("提升了约3.5%", "提升了约百分之三点五"),
    ("错误率<1%", "错误率不到百分之一"),
    ("2024年2月", "二〇二四年二月"),
    ("2月19日", "二月十九日"),
    ("OpenAI于2024年2月15日发布了Sora。", "Open A I于二〇二四年二月十五日发布了Sora。"),
    ("2024-02-19", "二〇二四年二月十九日"),
    ("第2代模型在2023-2024年间发布。", "第二代模型在二〇二三到二〇二四年间发布。"),
    ("1990年代", "一九九〇年代"),
    ("2000年前", "两千年前"),
    ("第3期", "第三期"),
    ("第2名", "第二名"),
    ("2个", "两个"),
    ("它在2个任务上领先，在12个任务上持平。", "它在两个任务上领先，在十二个任务上持平。"),
    ("2倍", "两倍"),
    ("2.5倍", "二点五倍"),
    ("2000个", "两千个"),
    ("2万", "两万"),
    ("12000", "一万两千"),
    ("100万", "一百万"),
    ("10万小时", "十万小时"),
    ("340亿", "三百四十亿"),
    ("1,000,000", "一百万"),
    ("0.5秒", "零点五秒"),
    ("延迟降到100ms以内", "延迟降到一百毫秒以内"),
    ("会议将于10:30开始。", "会议将于十点三十分开始。"),
    ("16:9", "十六比九"),
    ("1/3的数据", "三分之一的数据"),
    ("融资金额达到$6.6B", "融资金额达到六十六亿美元"),
    ("$5M", "五百万美元"),
    ("100+种语言", "一百多种语言"),
    ("分辨率1920x1080", "分辨率一千九百二十乘一千零八十"),
    ("训练用了2048块GPU，耗时3个月。", "训练用了两千零四十八块G P U，耗时三个月。"),
    ("3~5年", "三到五年"),
    ("30%~50%", "百分之三十到百分之五十"),
    ("服务24/7运行", "服务全天候运行"),
]

NAMES_ZH = [
    ("Gemini 1.5 Pro支持100万token的上下文。", "Gemini one point five Pro支持一百万token的上下文。"),
    ("Claude 3在多项基准上超过了GPT-4。", "Claude three在多项基准上超过了G P T four。"),
    ("Llama 2有7B、13B和70B三个版本。", "Llama two有七B、十三B和七十B三个版本。"),
    ("Mistral 7B在MMLU上得分60.1%。", "Mistral 七B在M M L U上得分百分之六十点一。"),
    ("GPT-3.5的价格降低了50%。", "G P T three point five的价格降低了百分之五十。"),
    ("GPT-4o的响应时间平均为320毫秒。", "G P T four o的响应时间平均为三百二十毫秒。"),
    ("Code Llama 34B", "Code Llama 三十四B"),
    ("模型大小从0.5B到72B不等。", "模型大小从零点五B到七十二B不等。"),
    ("上下文窗口达到128K。", "上下文窗口达到一百二十八K。"),
    ("Mixtral 8x7B是一个MoE模型。", "Mixtral 八乘七B是一个M O E模型。"),
    ("DeepSeek-V2的推理成本只有GPT-4 Turbo的1/70。",
     "DeepSeek-V two的推理成本只有G P T four Turbo的七十分之一。"),
    ("训练用了H100和A100。", "训练用了H one hundred和A one hundred。"),
    ("在Minecraft 100个任务上", "在Minecraft 一百个任务上"),
    ("它支持5G和4K视频。", "它支持五G和四K视频。"),
    ("NeRF和3D高斯泼溅都很火。", "nerf和三D高斯泼溅都很火。"),
    ("RLHF和DPO是常见的对齐方法。", "R L H F和D P O是常见的对齐方法。"),
    ("ChatGPT的周活跃用户超过1亿。", "Chat G P T的周活跃用户超过一亿。"),
    ("研究团队来自MIT、CMU和Stanford。", "研究团队来自M I T、C M U和Stanford。"),
    ("多数LLMs都用到了NLP技术。", "多数L L M's都用到了N L P技术。"),
    ("COVID-19疫情期间", "Covid nineteen疫情期间"),
    ("DALL-E 3生成的图片", "Dolly three生成的图片"),
    ("该模型在ImageNet上的top-1准确率为90.2%。", "该模型在ImageNet上的top one准确率为百分之九十点二。"),
    ("A/B测试显示效果更好。", "A B测试显示效果更好。"),
    ("文本/图像都可以输入。", "文本或图像都可以输入。"),
    ("C++和C#都支持。", "C plus plus和C sharp都支持。"),
]

LINKS_ZH = [
    ("论文链接：https://arxiv.org/abs/2402.08093。", "论文链接。"),
    ("详见arXiv:2402.08093。", "详见archive。"),
    ("论文2402.08093已公开。", "论文已公开。"),
    ("代码在https://github.com/x/y（MIT协议）。", "代码在（M I T协议）。"),
    ("论文（https://arxiv.org/abs/2402.04335）发表于EACL 2024。",
     "论文发表于E A C L twenty twenty-four。"),
    ("项目主页aloha-2.github.io已经上线。", "项目主页aloha two dot github dot io已经上线。"),
    ("主页：www.example.com。", "主页。"),
    ("联系abc.d@example.com获取数据。", "联系获取数据。"),
    ("https://openai.com/sora", ""),
]


@pytest.mark.parametrize(("written", "spoken"), SAMPLE_ZH + NUMBERS_ZH + NAMES_ZH + LINKS_ZH)
def test_mandarin(written: str, spoken: str) -> None:
    assert speak(written, "zh-CN") == spoken


# ---------------------------------------------------------------------------------------------
# English

ENGLISH = [
    ("It reads a 128k context.", "It reads a one hundred and twenty-eight K context."),
    ("Trained for 10k steps.", "Trained for ten thousand steps."),
    ("OpenAI released GPT-4o in May 2024.", "Open A I released G P T four o in May twenty twenty-four."),
    ("Meta's Llama 3 70B was trained on 15T tokens.",
     "Meta's Llama three seventy B was trained on fifteen trillion tokens."),
    ("The 7B model answers in 100 ms.", "The seven B model answers in one hundred milliseconds."),
    ("It has 7B parameters.", "It has seven billion parameters."),
    ("Weaver Ultra has 34B parameters.", "Weaver Ultra has thirty-four billion parameters."),
    ("Mistral raised $415M in December 2023.",
     "Mistral raised four hundred and fifteen million dollars in December twenty twenty-three."),
    ("It costs $5M.", "It costs five million dollars."),
    ("It costs $4.99.", "It costs four dollars and ninety-nine cents."),
    ("It costs $1.", "It costs one dollar."),
    ("H100 GPUs cost about $30,000 each.", "H one hundred G P U's cost about thirty thousand dollars each."),
    ("Accuracy rose from 45% to 62.5%.",
     "Accuracy rose from forty-five percent to sixty-two point five percent."),
    ("A 3-5% gain.", "A three to five percent gain."),
    ("Up ~5% today.", "Up about five percent today."),
    ("The dataset has 1,500,000 images and takes 10 GB.",
     "The dataset has one million five hundred thousand images and takes ten gigabytes."),
    ("It needs 1 GB.", "It needs one gigabyte."),
    ("Gemini 1.5 Pro handles up to 1M tokens.",
     "Gemini one point five Pro handles up to one million tokens."),
    ("Claude 3 Opus beats GPT-4 on MMLU.", "Claude three Opus beats G P T four on M M L U."),
    ("GPT-3.5 is cheaper.", "G P T three point five is cheaper."),
    ("GPT-4-turbo is fast.", "G P T four turbo is fast."),
    ("It's the 3rd release of v2.1 this year.", "It's the third release of version two point one this year."),
    ("The 21st century.", "The twenty-first century."),
    ("In 2024, LLMs got 3x faster.", "In twenty twenty-four, L L M's got three times faster."),
    ("The 1990s were different.", "The nineteen nineties were different."),
    ("From 2020 to 2023, TTS improved.", "From twenty twenty to twenty twenty-three, T T S improved."),
    ("It ran 2020-2024.", "It ran twenty twenty to twenty twenty-four."),
    ("It was released on February 19, 2024.",
     "It was released on February nineteenth, twenty twenty-four."),
    ("Released 2024-02-19.", "Released February nineteenth, twenty twenty-four."),
    ("We trained it for 2000 steps.", "We trained it for two thousand steps."),
    ("It supports 128K context and 4K video.",
     "It supports one hundred and twenty-eight K context and four K video."),
    ("Call at 10:30 am.", "Call at ten thirty A M."),
    ("Only 1/3 of the samples passed.", "Only one third of the samples passed."),
    ("Google DeepMind's ALOHA 2 uses 4 cameras.", "Google DeepMind's Aloha two uses four cameras."),
    ("Sora generates 60-second videos.", "Sora generates sixty-second videos."),
    ("COVID-19 data was used.", "Covid nineteen data was used."),
    ("The MIT team used NLP and RLHF.", "The M I T team used N L P and R L H F."),
    ("Amazon AGI built BASE TTS.", "Amazon A G I built Base T T S."),
    ("USC released FACT-GPT.", "U S C released Fact G P T."),
    ("Mixtral uses 8x7B experts.", "Mixtral uses eight by seven B experts."),
    ("ChatGPT has 100M+ weekly users.", "Chat G P T has one hundred million plus weekly users."),
    ("Qwen2.5-72B is open.", "Qwen two point five seventy-two B is open."),
    ("It covers 100+ languages.", "It covers one hundred plus languages."),
    ("It scored #1 on the leaderboard.", "It scored number one on the leaderboard."),
    ("The temperature fell to -5 degrees.", "The temperature fell to minus five degrees."),
    ("Windows 2000 and Office 2019.", "Windows two thousand and Office twenty nineteen."),
    ("See https://arxiv.org/abs/2402.08093 for details.", "See for details."),
    ("The paper (arXiv:2402.08093) is out.", "The paper (archive) is out."),
    ("Visit openai.com for more.", "Visit openai dot com for more."),
    ("Write to a.b@example.com today.", "Write to today."),
    ("R&D and/or text/image.", "R and D and or text or image."),
    ("e.g. SMolInstruct and LlaSMol.", "for example SMolInstruct and LlaSMol."),
    ("3~5 years", "three to five years"),
    ("2048 GPUs were used.", "two thousand and forty-eight G P U's were used."),
    ("2024 was wild.", "twenty twenty-four was wild."),
    ("Q3 2024 revenue grew.", "Q three twenty twenty-four revenue grew."),
    ("Version 2.0 is here.", "Version two point oh is here."),
    ("Llama-2-7B is here.", "Llama two seven B is here."),
    ("It runs 24/7.", "It runs twenty-four seven."),
]


@pytest.mark.parametrize(("written", "spoken"), ENGLISH)
def test_english(written: str, spoken: str) -> None:
    assert speak(written, "en-US") == spoken


ESPEAK = [
    ("AGI", "zh-CN", "eh G I"),
    ("Amazon AGI的研究者", "zh-CN", "Amazon eh G I的研究者"),
    ("OpenAI发布了Sora。", "zh-CN", "Open eh I发布了Sora。"),
    ("训练用了A100。", "zh-CN", "训练用了eh one hundred。"),
    ("A/B测试", "zh-CN", "eh B测试"),
    ("The A/B test ran on an A100.", "en-US", "The eh B test ran on an eh one hundred."),
    ("A new model beats TTS baselines.", "en-US", "A new model beats T T S baselines."),
]


@pytest.mark.parametrize(("written", "language", "spoken"), ESPEAK)
def test_espeak_spelling(written: str, language: str, spoken: str) -> None:
    """espeak reads a lone "A" before a word as the article: spelled letters say "eh" instead."""
    assert speak(written, language, engine="espeak", letters=EspeakEngine.letter_names) == spoken
    assert "eh" not in speak(written, language, engine="edge", letters=EdgeEngine.letter_names)


def test_speaking_the_spoken_form_again_changes_nothing() -> None:
    for _, said in SAMPLE_ZH + NUMBERS_ZH + NAMES_ZH + LINKS_ZH:
        assert speak(said, "zh-CN") == said
    for _, said in ENGLISH:
        assert speak(said, "en-US") == said


# ---------------------------------------------------------------------------------------------
# The public API others call


def test_chunks_keep_written_and_spoken_forms() -> None:
    parts = chunks("OpenAI发布了Sora。[pause 800ms]它有10亿参数。", "zh-CN")
    assert parts == [
        Chunk(("OpenAI发布了Sora。",), ("Open A I发布了Sora。",), 800),
        Chunk(("它有10亿参数。",), ("它有十亿参数。",), 0),
    ]
    assert PAUSE_RE.search("[pause 1s]") is not None


def test_chunks_pass_lexicon_and_engine() -> None:
    show = _lexicon("terms:\n  Sora: {say: Sky, espeak: Sorah}\n")
    assert chunks("Sora来了。", "zh", show, "espeak")[0].spoken == ("Sorah来了。",)
    assert chunks("Sora来了。", "zh", show)[0].spoken == ("Sky来了。",)


def test_sentence_that_is_only_a_link_is_dropped_from_speech() -> None:
    parts = chunks("详见链接。https://example.com/a", "zh-CN")
    assert parts[0].spoken == ("详见链接。",)


def test_spoken_text_has_no_digits_across_many_numbers() -> None:
    text = "第1期：2、3、4个，5.5%，6-7年，8万，9亿，10:30，1/2，$3B，2024年1月2日。"
    assert not re.search(r"\d", speak(text, "zh-CN"))
    assert not re.search(r"\d", speak("1, 2, 3rd, 4.5%, 6-7, 8K, 9B, 10:30, 1/2, $3B, 2024.", "en-US"))


# ---------------------------------------------------------------------------------------------
# Lexicons


def _lexicon(text: str, name: str = "lexicon.yaml") -> Lexicon:
    doc = load_document(Path(name), text)
    lexicon = read_lexicon(doc)
    assert doc.problems == []
    return lexicon


def test_show_lexicon_wins_over_the_default() -> None:
    show = _lexicon("terms:\n  SORA: Sky\n")
    assert speak("SORA来了", "zh", show.merged_over(default_lexicon())) == "Sky来了"
    assert speak("SORA来了", "zh") == "Sora来了"
    assert speak("SORA来了", "zh", Lexicon()) == "S O R A来了"


def test_show_entry_without_a_form_for_the_language_falls_back_to_the_default() -> None:
    lexicon = _lexicon("terms:\n  SORA: {en: Sky}\n").merged_over(default_lexicon())
    assert speak("SORA", "en", lexicon) == "Sky"
    assert speak("SORA", "zh", lexicon) == "Sora"


def test_engine_specific_form_wins_over_the_general_one() -> None:
    lexicon = _lexicon(
        "terms:\n"
        "  Weaver:\n"
        "    say: Weever\n"
        "    zh: 韦弗\n"
        "    espeak: Weeva\n"
        "    edge: {zh: 维沃}\n"
    )
    assert lexicon.spoken("Weaver", "en-US") == "Weever"
    assert lexicon.spoken("Weaver", "zh-CN") == "韦弗"
    assert lexicon.spoken("Weaver", "zh-CN", "espeak") == "Weeva"
    assert lexicon.spoken("Weaver", "zh-CN", "edge") == "维沃"
    assert lexicon.spoken("Weaver", "en-US", "edge") == "Weever"
    assert lexicon.spoken("weaver", "en-US") is None


def test_case_and_whole_word_flags() -> None:
    lexicon = _lexicon(
        "terms:\n"
        "  cuda: {say: Cuda, match_case: false}\n"
        "  Net: {say: net, whole_word: false}\n"
        "  Llama: Lahma\n"
    )
    assert lexicon.apply("CUDA and Cuda and cuda", "en") == "Cuda and Cuda and Cuda"
    assert lexicon.apply("ImageNet and Net", "en") == "Imagenet and net"
    assert lexicon.apply("Llama, CodeLlama, Llamas, llama", "en") == "Lahma, CodeLlama, Llamas, llama"


def test_longest_term_wins_and_terms_match_beside_chinese() -> None:
    lexicon = _lexicon("terms:\n  GPT: Gee\n  GPT-4o: Omni\n  \"4\": four\n")
    assert lexicon.apply("GPT-4o比GPT强，GPT-4也行", "zh") == "Omni比Gee强，Gee-four也行"
    assert lexicon.apply("GPT-4.5", "zh") == "Gee-4.5"


def test_default_lexicon_is_loaded_once_and_covers_the_sample_names() -> None:
    assert default_lexicon() is default_lexicon()
    for term, said in [("SORA", "Sora"), ("ALOHA", "Aloha"), ("WRAP", "Wrap"), ("BASE", "Base"),
                       ("PEDS", "Peds"), ("MAGNeT", "Magnet"), ("arXiv", "archive")]:
        assert default_lexicon().spoken(term, "zh-CN") == said


@pytest.mark.parametrize(("tag", "key"), [("zh-CN", "zh"), ("en-US", "en"), ("cmn", "zh"), ("EN", "en")])
def test_language_key(tag: str, key: str) -> None:
    assert language_key(tag) == key


LEXICON_WITH_PROBLEMS = """\
terms:
  SORA: Sora
  "": nothing
  WRAP: ""
  BASE: [base]
  LoRA: {en: Laura, zhh: Lora}
  PEDS: {say: peds, whole_wrd: false}
  FACT: {say: Fact, match_case: maybe}
  GPT:
    espeak: {cn: G P T}
  TTS: {zh-CN: T T S}
  MoE: {match_case: false}
  CUDA:
vocabulary: {}
"""


def test_lexicon_problems_are_all_reported_with_their_lines(tmp_path: Path) -> None:
    file = tmp_path / "lexicon.yaml"
    file.write_text(LEXICON_WITH_PROBLEMS, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_lexicon(file)
    assert [str(p) for p in caught.value.problems] == [
        f"{file}:14:1: vocabulary: unknown field; put each term under 'terms:'",
        f"{file}:3:3: terms.: empty term: write the word as it appears in the text",
        f"{file}:4:9: terms.WRAP: empty spoken form: write how to say 'WRAP'",
        f"{file}:5:9: terms.BASE: must be the spoken form as text, not a list",
        f"{file}:6:21: terms.LoRA.zhh: unknown language 'zhh' (did you mean 'zh'?); "
        "languages: zh, en, yue, ja, ko, de, fr, es, it, pt, ru",
        f"{file}:7:21: terms.PEDS.whole_wrd: unknown field (did you mean 'whole_word'?); "
        "use say, a language (zh, en, ...), an engine (edge, espeak), match_case or whole_word",
        f"{file}:8:33: terms.FACT.match_case: must be true or false, not text",
        f"{file}:10:14: terms.GPT.espeak.cn: unknown language 'cn'; "
        "languages: zh, en, yue, ja, ko, de, fr, es, it, pt, ru",
        f"{file}:11:9: terms.TTS.zh-CN: unknown language 'zh-CN': use the language without its region, 'zh'",
        f"{file}:12:8: terms.MoE: no spoken form for 'MoE': add say, a language (zh, en, ...) "
        "or an engine (edge, espeak)",
        f"{file}:13:8: terms.CUDA: empty spoken form: write how to say 'CUDA'",
    ]


def test_duplicate_terms_are_reported(tmp_path: Path) -> None:
    doc = load_document(tmp_path / "l.yaml", "terms:\n  SORA: Sora\n  SORA: Sky\n"
                        "  sora: {say: Sora, match_case: false}\n")
    lexicon = read_lexicon(doc)
    assert [str(p) for p in doc.problems] == [
        f"{tmp_path / 'l.yaml'}:3:3: terms.SORA: duplicate key (first set on line 2)",
        f"{tmp_path / 'l.yaml'}:4:3: terms.sora: duplicate term: same as 'SORA' (line 3) "
        "when case is ignored",
    ]
    assert [t.term for t in lexicon.terms] == ["SORA"]


def test_lexicon_file_shape_problems(tmp_path: Path) -> None:
    doc = load_document(tmp_path / "l.yaml", "- SORA\n- ALOHA\n")
    assert read_lexicon(doc) == Lexicon()
    assert [p.message for p in doc.problems] == [
        "a lexicon file must be a mapping with 'terms:' (term: spoken form)"]
    empty = load_document(tmp_path / "e.yaml", "# nothing yet\nterms:\n")
    assert read_lexicon(empty) == Lexicon() and empty.problems == []
    with pytest.raises(InputError, match="file not found"):
        load_lexicon(tmp_path / "missing.yaml")


# ---------------------------------------------------------------------------------------------
# The whole sample issue

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+")


def _sample_sentences() -> list[str]:
    issue = load(SAMPLE)[0].issue
    texts = [issue.title, issue.description or ""]
    for entry in issue.entries:
        texts += [entry.title, entry.summary, entry.name or "", entry.org or "", entry.url or ""]
    return [s for text in texts for s in split_sentences(text)]


def _caps_runs(text: str) -> list[str]:
    return [piece for word in re.findall(r"[A-Za-z]+", text) for piece in _CAMEL.findall(word)
            if len(piece) > 1 and piece.isupper()]


@pytest.mark.parametrize("engine", [None, "espeak", "edge"])
def test_sample_issue_speaks_without_digits_links_or_unspelled_acronyms(engine: str | None) -> None:
    sentences = _sample_sentences()
    assert len(sentences) > 60
    words = {w for t in default_lexicon().terms for _, _, said in t.forms for w in said.split()}
    for sentence in sentences:
        said = speak(sentence, "zh-CN", engine=engine)
        assert not re.search(r"[0-9]", said), (sentence, said)
        assert not re.search(r"https?:|www\.|arxiv|\.(?:com|org|io)\b", said, re.IGNORECASE), said
        assert [run for run in _caps_runs(said) if run not in words] == [], (sentence, said)
