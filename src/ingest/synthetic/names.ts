/**
 * Chinese personal names and household addresses for synthetic persons. The tables are turned
 * into pickers once at module load; the samplers only concatenate short strings.
 */

import type { SexCode } from './demography.ts';
import { type Rng, weightedPicker } from './rng.ts';

// ---------------------------------------------------------------------------------------------
// Surnames
// ---------------------------------------------------------------------------------------------

/**
 * Surnames with approximate population shares (%). The top 100 follow the Ministry of Public
 * Security household-registration surname rankings (2019–2020 releases), where 王, 李, 张 and 刘
 * together cover about a quarter of the population; a tail of less common surnames and a few
 * compound (two-character) surnames at low weight complete the table.
 */
// biome-ignore format: compact data table
export const SURNAME_SHARES: readonly (readonly [string, number])[] = [
  ['王', 7.12], ['李', 7.0], ['张', 6.74], ['刘', 5.1], ['陈', 4.61], ['杨', 3.22], ['黄', 2.45], ['赵', 2.3],
  ['吴', 2.05], ['周', 1.97], ['徐', 1.68], ['孙', 1.53], ['马', 1.48], ['朱', 1.39], ['胡', 1.35],
  ['郭', 1.25], ['何', 1.2], ['林', 1.18], ['高', 1.17], ['罗', 1.16], ['郑', 1.1], ['梁', 1.0], ['谢', 0.87],
  ['宋', 0.84], ['唐', 0.83], ['许', 0.8], ['韩', 0.78], ['邓', 0.76], ['冯', 0.76], ['曹', 0.74],
  ['彭', 0.72], ['曾', 0.69], ['肖', 0.68], ['田', 0.65], ['董', 0.63], ['潘', 0.61], ['袁', 0.6],
  ['蔡', 0.58], ['蒋', 0.57], ['余', 0.55], ['于', 0.55], ['杜', 0.54], ['叶', 0.53], ['程', 0.52],
  ['魏', 0.5], ['苏', 0.49], ['吕', 0.48], ['丁', 0.47], ['任', 0.46], ['卢', 0.45], ['姚', 0.44],
  ['沈', 0.43], ['钟', 0.42], ['姜', 0.41], ['崔', 0.4], ['谭', 0.39], ['陆', 0.38], ['范', 0.37],
  ['汪', 0.37], ['廖', 0.36], ['石', 0.36], ['金', 0.35], ['韦', 0.34], ['贾', 0.34], ['夏', 0.33],
  ['付', 0.33], ['方', 0.32], ['邹', 0.31], ['熊', 0.31], ['白', 0.3], ['孟', 0.3], ['秦', 0.29],
  ['邱', 0.29], ['侯', 0.28], ['江', 0.28], ['尹', 0.27], ['薛', 0.26], ['闫', 0.26], ['段', 0.25],
  ['雷', 0.25], ['龙', 0.24], ['黎', 0.24], ['史', 0.23], ['陶', 0.23], ['贺', 0.22], ['毛', 0.22],
  ['郝', 0.21], ['顾', 0.21], ['龚', 0.2], ['邵', 0.2], ['万', 0.19], ['覃', 0.19], ['武', 0.19],
  ['钱', 0.18], ['戴', 0.18], ['严', 0.18], ['莫', 0.17], ['孔', 0.17], ['向', 0.17], ['常', 0.16],
  ['汤', 0.16], ['康', 0.16], ['易', 0.15], ['乔', 0.15], ['赖', 0.15], ['文', 0.15], ['施', 0.14],
  ['洪', 0.14],
  // Less common single-character surnames.
  ['牛', 0.13], ['温', 0.13], ['樊', 0.12], ['葛', 0.12], ['邢', 0.12], ['安', 0.11], ['齐', 0.11],
  ['伍', 0.11], ['庞', 0.11], ['颜', 0.11], ['倪', 0.1], ['聂', 0.1], ['章', 0.1], ['鲁', 0.1], ['岳', 0.1],
  ['翟', 0.1], ['殷', 0.09], ['詹', 0.09], ['申', 0.09], ['欧', 0.09], ['耿', 0.09], ['关', 0.09],
  ['兰', 0.09], ['焦', 0.09], ['俞', 0.08], ['左', 0.08], ['柳', 0.08], ['甘', 0.08], ['祝', 0.08],
  ['包', 0.08], ['宁', 0.08], ['尚', 0.07], ['符', 0.07], ['舒', 0.07], ['阮', 0.07], ['柯', 0.07],
  ['纪', 0.07], ['梅', 0.07], ['童', 0.07], ['凌', 0.06], ['毕', 0.06], ['单', 0.06], ['季', 0.06],
  ['裴', 0.06], ['霍', 0.06], ['涂', 0.06], ['成', 0.06], ['苗', 0.06], ['谷', 0.06], ['盛', 0.05],
  ['曲', 0.05], ['翁', 0.05], ['冉', 0.05], ['骆', 0.05], ['蓝', 0.05], ['路', 0.05], ['游', 0.05],
  ['辛', 0.05], ['靳', 0.05], ['管', 0.05], ['柴', 0.05], ['蒙', 0.05], ['鲍', 0.05], ['华', 0.04],
  ['喻', 0.04], ['祁', 0.04], ['蒲', 0.04], ['房', 0.04], ['滕', 0.04], ['屈', 0.04], ['饶', 0.04],
  ['解', 0.04], ['牟', 0.04], ['艾', 0.04], ['尤', 0.04], ['阳', 0.04], ['时', 0.04], ['穆', 0.04],
  ['农', 0.04], ['司', 0.03], ['卓', 0.03], ['古', 0.03], ['吉', 0.03], ['缪', 0.03], ['简', 0.03],
  ['车', 0.03], ['项', 0.03], ['连', 0.03], ['芦', 0.03], ['麦', 0.03], ['褚', 0.03], ['娄', 0.03],
  ['窦', 0.03], ['戚', 0.03], ['岑', 0.03], ['景', 0.03], ['党', 0.03], ['宫', 0.03], ['费', 0.03],
  ['卜', 0.03], ['冷', 0.03], ['晏', 0.03], ['席', 0.03], ['卫', 0.03], ['米', 0.03], ['柏', 0.02],
  ['宗', 0.02], ['瞿', 0.02], ['桂', 0.02], ['全', 0.02], ['佟', 0.02], ['应', 0.02], ['臧', 0.02],
  ['闵', 0.02], ['苟', 0.02], ['邬', 0.02], ['边', 0.02], ['卞', 0.02], ['姬', 0.02], ['师', 0.02],
  ['和', 0.02], ['仇', 0.02], ['栾', 0.02], ['隋', 0.02], ['商', 0.02], ['刁', 0.02], ['沙', 0.02],
  ['荣', 0.02], ['巫', 0.02], ['寇', 0.02], ['桑', 0.02], ['郎', 0.02], ['甄', 0.02], ['丛', 0.02],
  ['仲', 0.02],
  // Compound surnames.
  ['欧阳', 0.05], ['上官', 0.006], ['司马', 0.003], ['诸葛', 0.004], ['司徒', 0.006], ['皇甫', 0.003],
  ['东方', 0.002], ['令狐', 0.002], ['慕容', 0.001], ['尉迟', 0.001], ['夏侯', 0.001], ['端木', 0.001],
  ['公孙', 0.001], ['长孙', 0.001], ['轩辕', 0.0005], ['西门', 0.0005], ['独孤', 0.0005], ['南宫', 0.0005],
];

const SURNAMES = SURNAME_SHARES.map((e) => e[0]);
const pickSurnameIndex = weightedPicker(SURNAME_SHARES.map((e) => e[1]));

/** A surname drawn by population share. */
export function sampleSurname(rng: Rng): string {
  return SURNAMES[pickSurnameIndex(rng)]!;
}

// ---------------------------------------------------------------------------------------------
// Given names
// ---------------------------------------------------------------------------------------------

/** Characters common in men's given names. */
export const MALE_NAME_CHARS: readonly string[] = Array.from(
  '伟强磊军勇杰涛斌超刚辉鹏飞鑫波健亮俊峰龙浩宇凯毅彬坤锋建国兵东海志成勤力武栋虎彪雄豪骏驰腾鸿博睿哲轩昊晨' +
    '铭泽昌盛福贵荣富财德仁义礼忠孝信良贤达胜利兴旺发庆光耀炜烨炳焕钢铁锐铮鸣松柏森桐山岩峻岭江河涌洪源潮川舟帆' +
    '航远卫保民振奋进继承先祖宗启迪才俭朴诚坚恒魁彰翔鹤鹰雷霆震禹尧舜汉唐晋秦楚冠旭昆仑岳峥嵘镇杭勋功彦斐楷琛骁' +
    '猛智渊瀚皓',
);

/** Characters common in women's given names. */
export const FEMALE_NAME_CHARS: readonly string[] = Array.from(
  '芳娜敏静丽艳娟霞燕玲萍红秀英梅兰琴莉婷雪慧颖倩琳洁晶婧璐瑶怡欣悦妍蕾薇菲萱茜露媛姝妮娇娥娅婕婉婵姣妙姗姿娴' +
    '淑惠贞珍珠琪琦瑾瑜璇瑛玥珊琼凤莺蝶蓉荷莲菊桂芝蕙茹芸苹菁蓓蕊莎黛翠碧彤丹紫绿绮素锦香馨芬韵音歌美巧灵爱梦楠' +
    '桃杏柳霏雯霖曼蔓娉盈岚凝冰霜沁滢澜漪潇湘雅宛若依伊晴柔娣嫣嘉佩琬菡萌蕴妤嫚娆莹茵苒芊芮萦',
);

/** Characters used in given names of either sex. */
export const NEUTRAL_NAME_CHARS: readonly string[] = Array.from(
  '文明华平林安乐心新子一天永玉金雨星辰思家世书诗如士立正中和方圆长清晓阳春秋冬夏宁月云佳瑞祥益道元开宏亚梓可' +
    '涵青小敬学晖景宝昕昱炎卓斯善泉晗朗然煜韬弘逸君凡尚颂珂苏原延乾恩舒畅蔚艺洋翰希望诺灿康泰怀真知行融予来朝' +
    '曦昭映彩虹霄风竹墨简宜宣易洲湖溪沐泊润澄羽翊熙烁奕北南季秉默忆念恬汐澈钧晏霁岑',
);

/** Share of given names with a single character (the rest have two). */
const SINGLE_CHAR_GIVEN_NAME = 0.18;
/** Probability that a given-name character comes from the gendered pool rather than the neutral one. */
const GENDERED_CHAR = 0.68;
/** Share of two-character women's names that repeat the character (婷婷, 晶晶). */
const REDUPLICATED_FEMALE = 0.04;

function nameChar(rng: Rng, gendered: readonly string[]): string {
  return rng.chance(GENDERED_CHAR) ? rng.pick(gendered) : rng.pick(NEUTRAL_NAME_CHARS);
}

/** A given name of one or two characters for the sex (GB/T 2261.1 '1' male, '2' female). */
export function sampleGivenName(rng: Rng, sex: SexCode): string {
  const pool = sex === '1' ? MALE_NAME_CHARS : FEMALE_NAME_CHARS;
  if (rng.chance(SINGLE_CHAR_GIVEN_NAME)) return nameChar(rng, pool);
  const first = nameChar(rng, pool);
  if (sex === '2' && rng.chance(REDUPLICATED_FEMALE)) {
    const c = rng.pick(pool);
    return c + c;
  }
  let second = nameChar(rng, pool);
  if (second === first) second = rng.pick(pool);
  if (second === first) second = rng.pick(NEUTRAL_NAME_CHARS);
  return first + second;
}

/** A full name (surname + given name), 2–4 characters. */
export function personName(rng: Rng, sex: SexCode): string {
  return sampleSurname(rng) + sampleGivenName(rng, sex);
}

// ---------------------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------------------

// biome-ignore format: compact data table
const ROAD_STEMS: readonly string[] = [
  '幸福', '人民', '解放', '建设', '中山', '和平', '胜利', '文化', '光明', '新华', '友谊', '团结', '长江',
  '黄河', '朝阳', '东风', '红旗', '青年', '工农', '迎宾', '滨河', '学府', '科技', '振兴', '繁荣', '民主',
  '复兴', '兴业', '金桥', '延安', '长安', '花园', '体育', '健康', '跃进', '站前', '环城', '府前', '育才',
  '前进', '北京', '南京', '上海', '天山', '昆仑', '泰山', '黄山', '庐山', '珠江', '汉江', '湘江', '淮河',
  '松花江', '滨江', '沿江', '世纪', '开发', '创业', '工业', '商业', '东方', '西湖', '翠湖', '明珠', '锦绣',
  '龙华', '凤凰', '银河', '春风', '丰收', '民生', '民族', '新兴', '兴华', '公园', '百花', '桃园', '梨园',
  '柳园', '太平', '永安', '长寿', '富强', '文明', '和谐', '园林', '纺织', '机场', '火车站', '车站', '新村',
  '新民', '安居', '东湖', '南湖', '北湖', '宝山', '金山',
];
const ROAD_DIRECTIONS: readonly string[] = ['东', '西', '南', '北', '中'];
const ROAD_SUFFIXES: readonly string[] = ['路', '路', '路', '路', '街', '街', '大道', '大街', '巷'];
// biome-ignore format: compact data table
const ESTATES: readonly string[] = [
  '阳光花园', '锦绣家园', '碧水湾', '金色家园', '翠苑', '华府', '名都', '御景苑', '丽景苑', '幸福里',
  '书香苑', '怡景花园', '盛世华庭', '东方明珠小区', '世纪花园', '万家花园', '和谐家园', '香榭丽园',
  '滨江花园', '紫荆苑', '桂花苑', '新城小区', '教师新村', '电力小区', '铁路新村', '水岸名居', '锦江苑',
  '银杏苑', '枫林小区', '康乐小区', '春晖园', '金地花园', '绿城花园', '南苑小区', '北苑小区', '东苑', '西苑',
  '翡翠城', '学府嘉园', '海棠湾',
];
// biome-ignore format: compact data table
const VILLAGE_STEMS: readonly string[] = [
  '新华', '红星', '光明', '和平', '团结', '胜利', '前进', '东风', '永兴', '长安', '大石', '白沙', '清水',
  '黄土', '石门', '柳树', '杨柳', '高桥', '梨园', '桃园', '新建', '新民', '新联', '三合', '五里', '七里',
  '双河', '龙泉', '凤凰', '白马', '青山', '金星', '红旗', '太平', '中心', '建新', '向阳', '朝阳', '联合',
  '民主', '群力', '大兴', '兴隆', '东山', '西山', '南湾', '北坡', '下坝', '上营', '河口', '沙坪', '石桥',
  '松林', '竹园', '枣林', '杏花',
];
// biome-ignore format: compact data table
const VILLAGE_CLAN_SUFFIXES: readonly string[] = [
  '家', '庄', '湾', '岗', '屯', '寨', '坪', '沟', '桥', '营', '店', '集',
];

function roadName(rng: Rng): string {
  const stem = rng.pick(ROAD_STEMS);
  const dir = rng.chance(0.25) ? rng.pick(ROAD_DIRECTIONS) : '';
  return stem + dir + rng.pick(ROAD_SUFFIXES);
}

function houseNumber(rng: Rng): number {
  return rng.chance(0.8) ? rng.int(1, 199) : rng.int(200, 999);
}

function apartment(rng: Rng): string {
  const highRise = rng.chance(0.55);
  const floor = highRise ? rng.int(1, 33) : rng.int(1, 7);
  const room = rng.int(1, highRise ? 4 : 3);
  return floor + (room < 10 ? '0' : '') + room + '室';
}

function urbanAddress(rng: Rng): string {
  const r = rng.nextFloat();
  if (r < 0.45) {
    // 幸福路128号3栋2单元501室
    return (
      roadName(rng) +
      houseNumber(rng) +
      '号' +
      rng.int(1, 30) +
      '栋' +
      rng.int(1, 6) +
      '单元' +
      apartment(rng)
    );
  }
  if (r < 0.8) {
    // 幸福路128号阳光花园12栋1单元1203室
    return (
      roadName(rng) +
      houseNumber(rng) +
      '号' +
      rng.pick(ESTATES) +
      rng.int(1, 40) +
      '栋' +
      rng.int(1, 4) +
      '单元' +
      apartment(rng)
    );
  }
  if (r < 0.92) {
    // 幸福路28号院3号楼2门501室
    return (
      roadName(rng) +
      houseNumber(rng) +
      '号院' +
      rng.int(1, 20) +
      '号楼' +
      rng.int(1, 6) +
      '门' +
      apartment(rng)
    );
  }
  // 幸福街17号 (a house on the street)
  return roadName(rng) + houseNumber(rng) + '号';
}

function villageName(rng: Rng): string {
  if (rng.chance(0.4)) return sampleSurname(rng) + rng.pick(VILLAGE_CLAN_SUFFIXES) + '村';
  return rng.pick(VILLAGE_STEMS) + '村';
}

function ruralAddress(rng: Rng): string {
  const village = villageName(rng);
  // 王家村3组15号 / 红星村15号
  if (rng.chance(0.75)) return village + rng.int(1, 12) + '组' + rng.int(1, 80) + '号';
  return village + rng.int(1, 300) + '号';
}

/** Probability that a household in this county / town has an urban (street) address. */
export function urbanShare(countyName: string, townName?: string): number {
  if (townName !== undefined && townName.length > 0) {
    if (townName.endsWith('街道') || townName.endsWith('街道办事处')) return 0.95;
    if (townName.endsWith('镇')) return 0.45;
    if (townName.endsWith('乡') || townName.endsWith('苏木')) return 0.08;
    return 0.5;
  }
  if (countyName.endsWith('区')) return 0.85;
  if (countyName.endsWith('市')) return 0.6;
  return 0.35; // 县, 自治县, 旗, 自治旗, 特区, 林区
}

/**
 * A plausible household address below town level: a street address such as
 * `幸福路128号3栋2单元501室` / `中山路28号阳光花园12栋1单元1203室`, or a village address such as
 * `王家村3组15号`. The county and town names only decide how urban the area is (a 区 or a 街道 is
 * mostly streets, a 县 or a 乡 mostly villages); prepend the division names to get a full address.
 */
export function householdAddress(rng: Rng, countyName: string, townName?: string): string {
  return rng.nextFloat() < urbanShare(countyName, townName) ? urbanAddress(rng) : ruralAddress(rng);
}
