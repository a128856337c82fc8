//! Words the engine knows: field types in English and Chinese, Chinese names of the
//! base objects, and Chinese CRM terms with the English word an identifier is made of.

use spec::FieldType;

/// A field type from the word a request uses for it.
pub fn field_type(word: &str) -> Option<FieldType> {
    let w = word.trim().to_lowercase();
    Some(match w.as_str() {
        "string" | "short text" | "文本" | "字符串" | "短文本" => FieldType::String,
        "text" | "long text" | "multiline" | "长文本" | "多行文本" | "备注型" => {
            FieldType::Text
        }
        "integer" | "int" | "whole number" | "整数" | "整型" => FieldType::Integer,
        "decimal" | "number" | "money" | "amount" | "小数" | "数字" | "金额" | "数值" => {
            FieldType::Decimal
        }
        "boolean" | "bool" | "yes/no" | "checkbox" | "布尔" | "是否" | "开关" => {
            FieldType::Boolean
        }
        "date" | "日期" => FieldType::Date,
        "datetime" | "date-time" | "timestamp" | "日期时间" | "时间" | "时间戳" => {
            FieldType::Datetime
        }
        "email" | "e-mail" | "邮箱" | "电子邮件" | "邮件" => FieldType::Email,
        "phone" | "telephone" | "电话" | "手机" | "手机号" => FieldType::Phone,
        "url" | "link" | "website" | "网址" | "链接" => FieldType::Url,
        "enum" | "choice" | "select" | "枚举" | "选项" | "单选" => FieldType::Enum,
        "reference" | "ref" | "lookup" | "引用" | "关联" => FieldType::Reference,
        "json" => FieldType::Json,
        _ => return None,
    })
}

/// The base objects by their Chinese names.
pub const OBJECT_ALIASES: &[(&str, &str)] = &[
    ("客户", "Customer"),
    ("顾客", "Customer"),
    ("订单", "Order"),
    ("订单跟踪", "OrderTracking"),
    ("物流跟踪", "OrderTracking"),
    ("跟踪记录", "OrderTracking"),
    ("财务交易", "FinancialTransaction"),
    ("交易", "FinancialTransaction"),
    ("财务流水", "FinancialTransaction"),
];

/// Chinese terms and the English words of their identifiers, longest first where
/// one contains another (the segmenter takes the longest match).
const TERMS: &[(&str, &str)] = &[
    ("积分", "points"),
    ("会员等级", "member level"),
    ("会员", "member"),
    ("等级", "level"),
    ("忠诚度", "loyalty"),
    ("忠诚", "loyalty"),
    ("生日", "birthday"),
    ("备注", "remarks"),
    ("地址", "address"),
    ("电话", "phone"),
    ("手机", "mobile"),
    ("邮箱", "email"),
    ("金额", "amount"),
    ("折扣", "discount"),
    ("来源", "source"),
    ("行业", "industry"),
    ("网站", "website"),
    ("数量", "quantity"),
    ("价格", "price"),
    ("单价", "unit price"),
    ("日期", "date"),
    ("状态", "status"),
    ("优先级", "priority"),
    ("评分", "rating"),
    ("标签", "tags"),
    ("负责人", "owner"),
    ("城市", "city"),
    ("省份", "province"),
    ("国家", "country"),
    ("公司", "company"),
    ("客户", "customer"),
    ("订单", "order"),
    ("名称", "name"),
    ("名字", "name"),
    ("描述", "description"),
    ("类型", "type"),
    ("渠道", "channel"),
    ("预算", "budget"),
    ("信用", "credit"),
    ("额度", "limit"),
    ("编号", "number"),
    ("时间", "time"),
    ("开始", "start"),
    ("结束", "end"),
    ("到期", "due"),
    ("合同", "contract"),
    ("发票", "invoice"),
    ("付款", "payment"),
    ("联系人", "contact"),
    ("微信", "wechat"),
    ("部门", "department"),
    ("职位", "job title"),
    ("年龄", "age"),
    ("性别", "gender"),
    ("活动", "campaign"),
    ("营销", "marketing"),
    ("工单", "ticket"),
    ("满意度", "satisfaction"),
    ("回访", "follow up"),
    ("备用", "backup"),
    ("推荐人", "referrer"),
    ("税号", "tax number"),
    ("税率", "tax rate"),
    ("重量", "weight"),
    ("尺寸", "size"),
    ("颜色", "color"),
    ("库存", "stock"),
    ("供应商", "supplier"),
    ("产品", "product"),
    ("商品", "product"),
    ("年", "year"),
    ("月", "month"),
    ("日", "day"),
    ("总", "total"),
    ("的", ""),
];

/// English words for a Chinese name, by longest match; `None` when some part is not
/// a known term (the engine then asks for an identifier instead of inventing one).
pub fn english_words(name: &str) -> Option<String> {
    let mut rest = name.trim();
    let mut words: Vec<String> = Vec::new();
    while !rest.is_empty() {
        if let Some(c) = rest.chars().next()
            && (c.is_whitespace() || c == '_' || c == '-')
        {
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let hit = TERMS
            .iter()
            .filter(|(zh, _)| rest.starts_with(zh))
            .max_by_key(|(zh, _)| zh.len());
        match hit {
            Some((zh, en)) => {
                if !en.is_empty() {
                    words.push((*en).to_owned());
                }
                rest = &rest[zh.len()..];
            }
            None => {
                // ASCII runs pass through as words of their own.
                let ascii: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect();
                if ascii.is_empty() {
                    return None;
                }
                rest = &rest[ascii.len()..];
                words.push(ascii);
            }
        }
    }
    (!words.is_empty()).then(|| words.join(" "))
}

/// The pinyin words of a Chinese name (`预计送达日期` → `yu ji song da ri qi`), ASCII
/// runs kept as words: the identifier of a name the glossary does not know.
pub fn pinyin_words(name: &str) -> Option<String> {
    use pinyin::ToPinyin;
    let mut words: Vec<String> = Vec::new();
    let mut ascii = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            ascii.push(c);
            continue;
        }
        if !ascii.is_empty() {
            words.push(std::mem::take(&mut ascii));
        }
        if let Some(p) = c.to_pinyin() {
            words.push(p.plain().to_owned());
        }
    }
    if !ascii.is_empty() {
        words.push(ascii);
    }
    (!words.is_empty()).then(|| words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_names_become_english_words() {
        assert_eq!(english_words("积分").as_deref(), Some("points"));
        assert_eq!(english_words("会员等级").as_deref(), Some("member level"));
        assert_eq!(english_words("信用额度").as_deref(), Some("credit limit"));
        assert_eq!(
            english_words("客户的生日").as_deref(),
            Some("customer birthday")
        );
        assert_eq!(english_words("龙卷风"), None);
    }

    #[test]
    fn unknown_chinese_names_read_as_pinyin() {
        assert_eq!(
            pinyin_words("预计送达日期").as_deref(),
            Some("yu ji song da ri qi")
        );
        assert_eq!(pinyin_words("VIP折扣").as_deref(), Some("VIP zhe kou"));
        assert_eq!(pinyin_words("——"), None);
    }

    #[test]
    fn types_in_both_languages() {
        assert_eq!(field_type("整数"), Some(FieldType::Integer));
        assert_eq!(field_type("Integer"), Some(FieldType::Integer));
        assert_eq!(field_type("金额"), Some(FieldType::Decimal));
        assert_eq!(field_type("colour"), None);
    }
}
