#include "web/i18n.hpp"

#include <array>

namespace cardsmith::web {
namespace {

struct Entry {
    std::string_view key;
    std::string_view en;
    std::string_view ru;  // empty: fall back to en
};

// Message texts are plain text: the renderers escape them. "{}" marks where a value goes.
constexpr std::array kCatalog{
    // Join page
    Entry{"join.title", "Get your loyalty card", "Получите карту лояльности"},
    Entry{"join.intro", "One short form, and the card goes into your phone's wallet.",
          "Одна короткая форма, и карта появится в кошельке вашего телефона."},
    Entry{"join.submit", "Get my card", "Получить карту"},
    Entry{"join.error_summary", "Please check the fields marked below.",
          "Проверьте поля, отмеченные ниже."},
    Entry{"join.consent", "I agree to the processing of my personal data for this loyalty card.",
          "Даю согласие на обработку моих персональных данных для этой карты лояльности."},
    Entry{"join.terms", "Terms and privacy", "Условия и конфиденциальность"},
    Entry{"join.fine_print", "Free. No app to install: Apple Wallet or Google Wallet.",
          "Бесплатно. Ничего не нужно устанавливать: Apple Wallet или Google Кошелёк."},
    Entry{"field.name", "Name", "Имя"},
    Entry{"field.phone", "Phone", "Телефон"},
    Entry{"field.phone_hint", "With country code, e.g. +49 151 23456789",
          "С кодом страны, например +7 912 345-67-89"},
    Entry{"field.email", "Email", "Электронная почта"},
    Entry{"field.birthday", "Birthday", "День рождения"},
    Entry{"field.optional", "(optional)", "(необязательно)"},
    // Verification page
    Entry{"verify.title", "Enter the code", "Введите код"},
    Entry{"verify.sent", "We sent a code to {}.", "Мы отправили код на {}."},
    Entry{"verify.code", "6-digit code", "Код из 6 цифр"},
    Entry{"verify.submit", "Confirm", "Подтвердить"},
    Entry{"verify.resent", "We sent a new code.", "Мы отправили новый код."},
    Entry{"verify.resend", "Send a new code", "Отправить код ещё раз"},
    // Card page
    Entry{"card.title", "Your card", "Ваша карта"},
    Entry{"card.aria", "Loyalty card", "Карта лояльности"},
    Entry{"card.balance", "Balance", "Баланс"},
    Entry{"card.tier", "Level", "Уровень"},
    Entry{"card.holder", "Member", "Владелец"},
    Entry{"card.offer", "Offer", "Предложение"},
    Entry{"card.number", "Card number", "Номер карты"},
    Entry{"card.qr", "QR code of the card number", "QR-код с номером карты"},
    Entry{"poster.qr", "QR code of the link to the form", "QR-код со ссылкой на форму"},
    Entry{"card.restored", "Welcome back: this is your card.", "С возвращением! Это ваша карта."},
    Entry{"card.apple_small", "Add to", "Добавить в"},
    Entry{"card.apple_big", "Apple Wallet", "Apple Wallet"},
    Entry{"card.google", "Save to Google Wallet", "Добавить в Google Кошелёк"},
    Entry{"card.pkpass_file", "Download the card (.pkpass)", "Скачать карту (.pkpass)"},
    Entry{"card.android_hint", "Android wallet apps (WalletPasses, Wallet Union) open this file.",
          "Этот файл открывают кошельки для Android (WalletPasses, Wallet Union)."},
    Entry{"card.show_at_till", "Show the QR code at the till.", "Покажите QR-код на кассе."},
    Entry{"card.keep_private",
          "Bookmark this page: its link opens your card, so keep it to yourself.",
          "Сохраните страницу в закладках: ссылка открывает вашу карту, не передавайте её."},
    Entry{"card.invite_title", "Invite a friend", "Пригласите друга"},
    Entry{"card.invite_text", "Send a friend this link:", "Отправьте другу эту ссылку:"},
    // Poster
    Entry{"poster.title", "Get our loyalty card", "Получите нашу карту лояльности"},
    Entry{"poster.scan", "Scan", "Отсканируйте"},
    Entry{"poster.scan_hint", "the QR code with your phone's camera", "QR-код камерой телефона"},
    Entry{"poster.form", "Fill the form", "Заполните форму"},
    Entry{"poster.form_hint", "one short form, no app", "одна короткая форма, без приложений"},
    Entry{"poster.wallet", "Add to Wallet", "Добавьте в кошелёк"},
    Entry{"poster.wallet_hint", "Apple Wallet or Google Wallet", "Apple Wallet или Google Кошелёк"},
    Entry{"poster.or_open", "or open", "или откройте"},
    Entry{"poster.print_hint", "Print this page on A4 or A5 paper.",
          "Распечатайте эту страницу на листе A4 или A5."},
    // Error pages: titles by HTTP status
    Entry{"status.400", "Bad request", "Неверный запрос"},
    Entry{"status.403", "Not allowed", "Доступ запрещён"},
    Entry{"status.404", "Not found", "Не найдено"},
    Entry{"status.410", "No longer available", "Больше недоступно"},
    Entry{"status.429", "Too many requests", "Слишком много запросов"},
    Entry{"status.500", "Something went wrong", "Что-то пошло не так"},
    Entry{"status.503", "Temporarily unavailable", "Временно недоступно"},
    Entry{"status.other", "Something went wrong", "Что-то пошло не так"},
    // Error messages by key (JoinPage::errors, VerifyPage::errors, render_error_page)
    Entry{"error.required", "Please fill in this field.", "Заполните это поле."},
    Entry{"error.invalid_name", "Please enter a name of up to 100 characters.",
          "Введите имя длиной до 100 символов."},
    Entry{"error.invalid_phone",
          "Enter an international number with the country code, like +49 151 23456789.",
          "Введите номер в международном формате с кодом страны, например +7 912 345-67-89."},
    Entry{"error.invalid_email", "Enter an email address like name@example.com.",
          "Введите адрес почты, например name@example.com."},
    Entry{"error.invalid_birthday", "Enter a real date of birth.",
          "Введите настоящую дату рождения."},
    Entry{"error.consent_required", "Please agree to the processing of your data to get the card.",
          "Чтобы получить карту, дайте согласие на обработку данных."},
    Entry{"error.code_wrong", "That code is not right. Check it and try again.",
          "Неверный код. Проверьте его и попробуйте ещё раз."},
    Entry{"error.code_format", "The code is 6 digits.", "Код состоит из 6 цифр."},
    Entry{"error.code_expired", "This code has expired. Send a new one.",
          "Срок действия кода истёк. Запросите новый."},
    Entry{"error.too_many_attempts", "Too many attempts. Please try again later.",
          "Слишком много попыток. Попробуйте позже."},
    Entry{"error.already_enrolled",
          "This already has a card in this program. Ask the staff to restore it.",
          "С этими данными карта уже выпущена. Попросите сотрудника восстановить её."},
    Entry{"error.too_many_codes", "Too many codes were sent. Please try again in an hour.",
          "Отправлено слишком много кодов. Попробуйте через час."},
    Entry{"error.code_not_sent", "We could not send the code. Please try again in a minute.",
          "Не удалось отправить код. Попробуйте ещё раз через минуту."},
    Entry{"error.verification_gone", "This code request has ended. Please fill in the form again.",
          "Этот запрос кода больше не действует. Заполните форму ещё раз."},
    Entry{"error.session_expired", "The form has expired. Please send it again.",
          "Форма устарела. Отправьте её ещё раз."},
    Entry{"error.program_not_found", "This loyalty program does not exist or is closed.",
          "Такой программы лояльности нет или она закрыта."},
    Entry{"error.program_full", "This program is not taking new members right now.",
          "Программа сейчас не принимает новых участников."},
    Entry{"error.card_not_found", "This card does not exist. Please check the link.",
          "Такой карты нет. Проверьте ссылку."},
    Entry{"error.internal", "Something went wrong on our side. Please try again in a minute.",
          "У нас что-то сломалось. Попробуйте ещё раз через минуту."},
    Entry{"error.unavailable", "The service is busy. Please try again in a minute.",
          "Сервис перегружен. Попробуйте ещё раз через минуту."},
    // Plurals
    Entry{"points.one", "point", "балл"},
    Entry{"points.few", "", "балла"},
    Entry{"points.many", "", "баллов"},
    Entry{"points.other", "points", "балла"},
};

std::string_view form_suffix(PluralForm form) {
    switch (form) {
        case PluralForm::one:
            return ".one";
        case PluralForm::few:
            return ".few";
        case PluralForm::many:
            return ".many";
        case PluralForm::other:
            break;
    }
    return ".other";
}

// |n| without overflow for INT64_MIN.
std::uint64_t magnitude(std::int64_t n) {
    return n < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(n) : static_cast<std::uint64_t>(n);
}

}  // namespace

Lang parse_lang(std::string_view tag) {
    if (tag.size() >= 2 && (tag[0] == 'r' || tag[0] == 'R') && (tag[1] == 'u' || tag[1] == 'U') &&
        (tag.size() == 2 || tag[2] == '-' || tag[2] == '_')) {
        return Lang::ru;
    }
    return Lang::en;
}

std::string_view lang_code(Lang lang) { return lang == Lang::ru ? "ru" : "en"; }

std::optional<std::string_view> find_message(Lang lang, std::string_view key) {
    for (const Entry& e : kCatalog) {
        if (e.key != key) {
            continue;
        }
        if (lang == Lang::ru && !e.ru.empty()) {
            return e.ru;
        }
        if (e.en.empty()) {
            return std::nullopt;  // a Russian-only plural form
        }
        return e.en;
    }
    return std::nullopt;
}

std::string_view message(Lang lang, std::string_view key) {
    return find_message(lang, key).value_or(key);
}

PluralForm plural_form(Lang lang, std::int64_t n) {
    const std::uint64_t v = magnitude(n);
    if (lang == Lang::en) {
        return v == 1 ? PluralForm::one : PluralForm::other;
    }
    const std::uint64_t mod10 = v % 10;
    const std::uint64_t mod100 = v % 100;
    if (mod10 == 1 && mod100 != 11) {
        return PluralForm::one;
    }
    if (mod10 >= 2 && mod10 <= 4 && (mod100 < 12 || mod100 > 14)) {
        return PluralForm::few;
    }
    return PluralForm::many;
}

std::string_view plural_message(Lang lang, std::string_view key, std::int64_t n) {
    std::string full{key};
    full += form_suffix(plural_form(lang, n));
    if (auto found = find_message(lang, full)) {
        return *found;
    }
    full = std::string{key} + ".other";
    return find_message(lang, full).value_or(key);
}

std::string format_number(Lang lang, std::int64_t n) {
    const std::string digits = std::to_string(magnitude(n));
    const std::string_view separator = lang == Lang::ru ? "\u00a0" : ",";
    std::string out;
    if (n < 0) {
        out += '-';
    }
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) {
            out += separator;
        }
        out += digits[i];
    }
    return out;
}

std::string format_points(std::string_view lang, std::int64_t n) {
    const Lang l = parse_lang(lang);
    std::string out = format_number(l, n);
    out += ' ';
    out += plural_message(l, "points", n);
    return out;
}

}  // namespace cardsmith::web
